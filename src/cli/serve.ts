/** `ebs-sim serve`: opens the simulator, listens (HTTP, and NBD if asked), prints the URLs, stops cleanly on SIGINT/SIGTERM. */
import { startNbdServer, type NbdServer, type NbdServerOptions } from '../nbd/server.js';
import type { AccessKey } from '../protocol/sigv4/index.js';
import { derivePskKey } from '../nbd/tls-psk.js';
import { parseObjectStoreSpec } from '../object-store/open-object-store.js';
import { buildApp } from '../server/app.js';
import { loadCredentialsFile } from '../server/auth.js';
import { Simulator } from '../simulator.js';
import { MemoryBudget } from './memory-budget.js';
import type { ServeConfig } from './serve-args.js';
import { UsageError } from './usage-error.js';

export async function serve(config: ServeConfig): Promise<void> {
  let credentials;
  try {
    parseObjectStoreSpec(config.objectStore);
  } catch (err) {
    throw new UsageError(`--object-store: ${(err as Error).message}`);
  }
  try {
    credentials = config.credentialsFile === undefined ? undefined : loadCredentialsFile(config.credentialsFile);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const sim = await Simulator.open({
    dataDir: config.dataDir,
    objectStore: config.objectStore,
    sync: config.sync,
    snapshotIntervalSeconds: config.snapshotIntervalSeconds,
    dirtyExpireSeconds: config.dirtyExpireSeconds,
    ...(config.copyRate !== undefined ? { copyRate: config.copyRate } : {}),
    ...(config.copyConcurrency !== undefined ? { copyConcurrency: config.copyConcurrency } : {}),
    ...(config.storeRetryBudgetSeconds !== undefined ? { storeRetryBudgetSeconds: config.storeRetryBudgetSeconds } : {}),
    ...(config.storeTimeoutSeconds !== undefined ? { storeTimeoutSeconds: config.storeTimeoutSeconds } : {}),
    faultInjection: config.allowControl,
    timing: config.timing,
    directRateLimits: config.directRateLimits,
  });
  const app = await buildApp(sim, {
    auth: config.auth,
    defaultAccountId: config.accountId,
    allowReset: config.allowReset,
    allowControl: config.allowControl,
    ...(credentials ? { credentials } : {}),
    logger: { level: 'warn' },
  });
  const memory = new MemoryBudget().start();
  let nbd: NbdServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      process.stderr.write(`ebs-sim: ${signal}, stopping\n`);
      memory.stop();
      await nbd?.close();
      await app.close();
      await sim.close();
    })().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`ebs-sim: error while stopping: ${(err as Error).stack ?? String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await sim.close();
    throw new UsageError(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  }
  if (config.nbdPort !== undefined) {
    try {
      nbd = await startNbdServer({ host: config.host, port: config.nbdPort, ...nbdAccess(config.auth === 'sigv4' ? credentials : undefined, sim) });
    } catch (err) {
      await app.close();
      await sim.close();
      throw new UsageError(`cannot listen for NBD on ${config.host}:${config.nbdPort}: ${(err as Error).message}`);
    }
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stdout.write(
    `ebs-sim listening on http://${host}:${port}\n` +
      `  console       http://${host}:${port}/console/ (open it in a browser)\n` +
      (nbd ? `  nbd           nbd://${host}:${nbd.port}/<vol-id> or nbd://${host}:${nbd.port}/<instance-id>/<device>${config.auth === 'sigv4' ? ' (TLS-PSK: ebs-sim nbd-psk)' : ' (open: no authentication)'}\n` : '') +
      `  data dir      ${config.dataDir}\n  object store  ${config.objectStore}\n` +
      `  auth          ${config.auth}${config.auth === 'none' ? ` (account ${config.accountId})` : ''}\n` +
      `  page cache    dirty pages written back after ${config.dirtyExpireSeconds} s${config.dirtyExpireSeconds === 0 ? ' (write-through)' : ''}\n`,
  );
}

/**
 * With credentials (--auth sigv4), NBD takes TLS-PSK only: the PSK identity is an access key id,
 * its key derived from the secret, and the client sees its account's exports and nothing else.
 */
function nbdAccess(credentials: ReadonlyMap<string, AccessKey> | undefined, sim: Simulator): Pick<NbdServerOptions, 'resolver' | 'tls'> {
  if (!credentials) return { resolver: sim.nbdResolver() };
  const keys = new Map([...credentials].map(([id, k]) => [id, derivePskKey(k.secretAccessKey)]));
  return {
    tls: { pskKey: (identity) => keys.get(identity) },
    resolver: sim.nbdResolver((client) => (client.pskIdentity === undefined ? undefined : credentials.get(client.pskIdentity)?.accountId)),
  };
}
