/**
 * `ebs-sim serve`'s flags and help. Kept apart from the server so that `--help` and flag errors
 * answer at once, without loading fastify, LevelDB or the AWS SDK.
 */
import { parseArgs } from 'node:util';
import type { AuthMode } from '../server/auth.js';
import { DEFAULT_ACCOUNT_ID } from '../server/defaults.js';
import { DEFAULT_DIRTY_EXPIRE_SECONDS } from '../service/defaults.js';
import { parseByteSize } from './byte-size.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_PORT = 7447;
export const DEFAULT_DATA_DIR = './ebs-sim-data/leveldb';
export const DEFAULT_OBJECT_STORE = 'fs:./ebs-sim-data/objects';

export const SERVE_HELP = `Usage: ebs-sim serve [options]

Serves the EC2 Query API (volumes, snapshots and instances, with real bytes) and the data plane
on one port, and optionally NBD for qemu-img, qemu-io and nbd-client.

Options:
  --host <address>          Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).
  --port <n>                TCP port (default ${DEFAULT_PORT}; 0 picks a free one).
  --data-dir <dir>          Data directory: LevelDB (volumes, snapshots, the EC2 catalog)
                            and the chunk pack files (default ${DEFAULT_DATA_DIR}).
  --object-store <spec>     Where snapshots are uploaded (default ${DEFAULT_OBJECT_STORE}):
                              fs:<dir>[?durable=true][&direct=false][&threads=<n>]
                                (durable: fsync each put; direct=false: write snapshot
                                blocks through the page cache instead of O_DIRECT;
                                threads: puts and gets at once, 1 to 16)
                              memory:                 (gone when the server stops)
                              s3://<bucket>[/<prefix>]?endpoint=<url>&region=<r>&forcePathStyle=true
                            S3 credentials come from the usual AWS_* environment variables.
  --account-id <12 digits>  The account of every request under --auth none (default ${DEFAULT_ACCOUNT_ID}).
  --auth none|sigv4         none (default): signatures are not checked; the region still comes
                            from the request's SigV4 credential scope (default us-east-1).
                            sigv4: requests must be signed by a key of --credentials.
  --credentials <file>      JSON mapping access keys to secrets and accounts:
                              {"credentials": [{"accessKeyId": "AKIAEXAMPLE1",
                                "secretAccessKey": "secret1", "accountId": "111122223333"}]}
  --copy-rate <bytes/s>     Upload bandwidth of the snapshot copier, e.g. 50MB, 20MiB, 1048576
                            (default: unlimited). Slow it down to watch snapshots progress.
  --copy-concurrency <n>    Blocks each snapshot copy uploads at once (default 8).
  --store-retry-budget <s>  How long a failing object-store call is retried, with backoff, before
                            the snapshot copy goes to error (default 300). Meanwhile the snapshot
                            stays pending and DescribeSnapshots shows the last error as its
                            StateMessage.
  --store-timeout <s>       One object-store call that has not answered after this long counts
                            as failed and is retried (default 60).
  --snapshot-interval <s>   Minimum seconds between two snapshots of one volume; a faster
                            CreateSnapshot fails with SnapshotCreationPerVolumeRateExceeded
                            (default 0: off).
  --nbd-port <n>            Also serve NBD on this port of --host (10809 is NBD's own; 0 picks
                            a free one). Export names: a volume id (write-through), or
                            <instance-id>/<device> (e.g. i-0abc.../sdf: through that instance's
                            page cache, so only FLUSH/FUA make writes reach the volume).
                            Under --auth none NBD is open: anyone who reaches the port can list,
                            read and write every account's volumes. Under --auth sigv4 it needs
                            TLS-PSK (NBD STARTTLS), one identity per access key, and each client
                            sees only its account's exports: \`ebs-sim nbd-psk --help\`.
  --dirty-expire <s>        How long guest writes may sit dirty in an instance's simulated page
                            cache before writeback (default ${DEFAULT_DIRTY_EXPIRE_SECONDS}, like Linux; 0: write-through).
  --sync                    fsync every acknowledged write and API change: survives a machine
                            crash, not only a process crash, at a latency cost.
  --timing <aws|instant>    aws (default): EC2's asynchronous states (creating, pending,
                            attaching...), as real client code must wait for them. instant:
                            each change is done before the answer, for suites written for moto:
                            CreateVolume answers available, AttachVolume attached, instances
                            running, and CreateSnapshot(s)/CopySnapshot copy the bytes first and
                            answer completed (the call takes as long as the copy).
  --direct-rate-limits <on|off>
                            on (default): the EBS direct APIs throttle at AWS's documented
                            rates (RequestThrottledException). off: unthrottled, for benchmarks
                            that measure the store rather than the quota.
  --allow-reset             Enable POST /_ebs-sim/reset (also POST /moto-api/reset, as moto's
                            server mode has it), which wipes all state (for test suites).
  --allow-control           Enable the test controls (reset too): PUT/GET/DELETE /_ebs-sim/faults
                            make the object store fail, slow down or hang; POST /_ebs-sim/clock
                            {"advanceSeconds": N} moves simulated time; GET /_ebs-sim/stats
                            shows lock waits, CPU and event-loop delay (docs/server.md).
  -h, --help                Show this help.

Endpoints:
  POST /                                          EC2 Query API (aws ec2 ... --endpoint-url <url>)
  PUT  /data/volumes/<vol-id>?offset=N            write the request body at byte offset N
  GET  /data/volumes/<vol-id>?offset=N&length=M   read M bytes
  POST /data/volumes/<vol-id>/flush               make acknowledged writes durable
  GET  /data/instances/<i-id>                     devices, volumes, dirty bytes in the page cache
  PUT  /data/instances/<i-id>/devices/<dev>?offset=N            write through the page cache
  GET  /data/instances/<i-id>/devices/<dev>?offset=N&length=M   read (sees cached writes)
  POST /data/instances/<i-id>/devices/<dev>/fsync|freeze|thaw
  POST /data/instances/<i-id>/sync|crash|freeze|thaw            crash: dirty pages are lost
  /snapshots...                                   EBS direct APIs (aws ebs ... --endpoint-url <url>)
  GET  /_ebs-sim/health                           200 once ready
`;

export interface ServeConfig {
  host: string;
  port: number;
  dataDir: string;
  objectStore: string;
  accountId: string;
  auth: AuthMode;
  credentialsFile?: string;
  copyRate?: number;
  copyConcurrency?: number;
  storeRetryBudgetSeconds?: number;
  storeTimeoutSeconds?: number;
  snapshotIntervalSeconds: number;
  /** undefined: no NBD listener. */
  nbdPort?: number;
  dirtyExpireSeconds: number;
  sync: boolean;
  allowReset: boolean;
  allowControl: boolean;
  timing: 'aws' | 'instant';
  directRateLimits: boolean;
}

/** Parses and checks `serve`'s flags; throws UsageError with a message that says what to fix. */
export function parseServeArgs(args: string[]): ServeConfig | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'object-store': { type: 'string' },
      'account-id': { type: 'string' },
      auth: { type: 'string' },
      credentials: { type: 'string' },
      'copy-rate': { type: 'string' },
      'copy-concurrency': { type: 'string' },
      'snapshot-interval': { type: 'string' },
      'store-retry-budget': { type: 'string' },
      'store-timeout': { type: 'string' },
      'nbd-port': { type: 'string' },
      'dirty-expire': { type: 'string' },
      sync: { type: 'boolean' },
      'allow-reset': { type: 'boolean' },
      'allow-control': { type: 'boolean' },
      timing: { type: 'string' },
      'direct-rate-limits': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got '${positionals.join(' ')}'`);
  const port = values.port === undefined ? DEFAULT_PORT : tcpPort('--port', values.port);
  const nbdPort = values['nbd-port'] === undefined ? undefined : tcpPort('--nbd-port', values['nbd-port']);
  const accountId = values['account-id'] ?? DEFAULT_ACCOUNT_ID;
  if (!/^\d{12}$/.test(accountId)) throw new UsageError(`--account-id must be 12 digits, got '${accountId}'`);
  const auth = values.auth ?? 'none';
  if (auth !== 'none' && auth !== 'sigv4') throw new UsageError(`--auth must be none or sigv4, got '${auth}'`);
  if (auth === 'sigv4' && values.credentials === undefined) throw new UsageError('--auth sigv4 needs --credentials <file>');
  const timing = values.timing ?? 'aws';
  if (timing !== 'aws' && timing !== 'instant') throw new UsageError(`--timing must be aws or instant, got '${timing}'`);
  const rateLimits = values['direct-rate-limits'] ?? 'on';
  if (rateLimits !== 'on' && rateLimits !== 'off') throw new UsageError(`--direct-rate-limits must be on or off, got '${rateLimits}'`);
  let copyRate: number | undefined;
  if (values['copy-rate'] !== undefined) {
    copyRate = parseByteSize(values['copy-rate']);
    if (copyRate === undefined || copyRate <= 0) {
      throw new UsageError(`--copy-rate must be a positive rate in bytes per second such as 50MB, 20MiB or 1048576, got '${values['copy-rate']}'`);
    }
  }
  const copyConcurrency = values['copy-concurrency'] === undefined ? undefined : Number(values['copy-concurrency']);
  if (copyConcurrency !== undefined && (!Number.isInteger(copyConcurrency) || copyConcurrency < 1 || copyConcurrency > 1024)) {
    throw new UsageError(`--copy-concurrency must be a whole number from 1 to 1024, got '${values['copy-concurrency']}'`);
  }
  const interval = values['snapshot-interval'] === undefined ? 0 : Number(values['snapshot-interval']);
  if (!Number.isFinite(interval) || interval < 0 || values['snapshot-interval']?.trim() === '') {
    throw new UsageError(`--snapshot-interval must be a number of seconds (0 for off), got '${values['snapshot-interval']}'`);
  }
  const dirtyExpire = values['dirty-expire'] === undefined ? DEFAULT_DIRTY_EXPIRE_SECONDS : Number(values['dirty-expire']);
  if (!Number.isFinite(dirtyExpire) || dirtyExpire < 0 || values['dirty-expire']?.trim() === '') {
    throw new UsageError(`--dirty-expire must be a number of seconds (0 for write-through), got '${values['dirty-expire']}'`);
  }
  const retryBudget = positiveSeconds('--store-retry-budget', values['store-retry-budget']);
  const storeTimeout = positiveSeconds('--store-timeout', values['store-timeout']);
  const objectStore = values['object-store'] ?? DEFAULT_OBJECT_STORE;
  return {
    host: values.host ?? '127.0.0.1',
    port,
    dataDir: values['data-dir'] ?? DEFAULT_DATA_DIR,
    objectStore,
    accountId,
    auth,
    ...(values.credentials !== undefined ? { credentialsFile: values.credentials } : {}),
    ...(copyRate !== undefined ? { copyRate } : {}),
    ...(copyConcurrency !== undefined ? { copyConcurrency } : {}),
    snapshotIntervalSeconds: interval,
    ...(nbdPort !== undefined ? { nbdPort } : {}),
    dirtyExpireSeconds: dirtyExpire,
    ...(retryBudget !== undefined ? { storeRetryBudgetSeconds: retryBudget } : {}),
    ...(storeTimeout !== undefined ? { storeTimeoutSeconds: storeTimeout } : {}),
    sync: values.sync === true,
    allowReset: values['allow-reset'] === true,
    allowControl: values['allow-control'] === true,
    timing,
    directRateLimits: rateLimits === 'on',
  };
}

function tcpPort(flag: string, raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`${flag} must be a TCP port number from 0 to 65535, got '${raw}'`);
  }
  return port;
}

function positiveSeconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number of seconds, got '${value}'`);
  return n;
}
