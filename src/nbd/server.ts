import { createServer, type AddressInfo } from 'node:net';
import type { ExportResolver } from './block-device.js';
import { DEFAULT_LIMITS, serveConnection, type NbdConnection, type NbdLimits } from './connection.js';
import { errorMessage, guardLog, silentLog, type NbdLog } from './log.js';
import type { NbdTlsOptions } from './tls-psk.js';

export interface NbdServerOptions {
  /** Interface to bind; default 127.0.0.1 (without `tls`, anyone who reaches the port gets every export). */
  host?: string;
  /** TCP port; 0 picks a free one (see the returned `port`). NBD's IANA port is 10809. */
  port?: number;
  resolver: ExportResolver;
  /** Require TLS-PSK (NBD STARTTLS) before any export is listed or opened. */
  tls?: NbdTlsOptions;
  log?: NbdLog;
  limits?: Partial<NbdLimits>;
  /** How long close() lets connections finish in-flight requests before dropping them. */
  shutdownGraceMs?: number;
}

export interface NbdServer {
  readonly host: string;
  readonly port: number;
  /** Stops listening, lets connections answer what is in flight, closes every device. */
  close(): Promise<void>;
}

/** Starts an NBD server (fixed newstyle handshake) serving the resolver's exports. */
export async function startNbdServer(opts: NbdServerOptions): Promise<NbdServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ? guardLog(opts.log) : silentLog;
  const limits: NbdLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  if (limits.maxInflightBytes < 32 * 1024 * 1024) throw new RangeError('maxInflightBytes must be at least 32 MiB');
  const connections = new Set<NbdConnection>();
  let closing: Promise<void> | undefined;

  // allowHalfOpen: a client may send its last requests and shut its side; we still answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const conn = serveConnection(socket, { resolver: opts.resolver, log, limits, ...(opts.tls ? { tls: opts.tls } : {}) });
    connections.add(conn);
    void conn.done.then(() => connections.delete(conn));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, errors (e.g. EMFILE on accept) must not crash the process.
  server.on('error', (err) => log('error', 'nbd server error', { error: errorMessage(err) }));
  const { port } = server.address() as AddressInfo;
  log('info', 'nbd server listening', { host, port });

  const shutdown = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    const conns = [...connections];
    conns.forEach((c) => c.shutdown());
    const all = Promise.all(conns.map((c) => c.done));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.shutdownGraceMs ?? 5000);
    });
    if ((await Promise.race([all, grace])) === 'timeout') conns.forEach((c) => c.destroy());
    clearTimeout(timer);
    await all;
    await stopped;
    log('info', 'nbd server closed', { host, port });
  };

  return {
    host,
    port,
    close: () => (closing ??= shutdown()),
  };
}
