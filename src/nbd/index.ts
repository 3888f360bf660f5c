/** NBD surface: serve block devices to qemu-img, qemu-io, nbd-client and friends. */
export type { BlockDevice, ExportResolver } from './block-device.js';
export { startNbdServer, type NbdServer, type NbdServerOptions } from './server.js';
export { DEFAULT_LIMITS, type NbdLimits } from './connection.js';
export { ERRNO_BY_CODE, errnoFor } from './errno-map.js';
export type { NbdLog, NbdLogLevel } from './log.js';
export type { NbdClient } from './block-device.js';
export { derivePskKey, pskFileLine, type NbdTlsOptions } from './tls-psk.js';
