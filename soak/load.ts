/**
 * The load: N concurrent clients, each repeating the cycle create volume, write 1 MiB, snapshot,
 * write again, describe, delete the snapshot or keep it, delete the volume (load-clients.ts, in
 * processes of at most 10 clients each, by default). Then every kept
 * snapshot is restored and read back: it must hold the first write, byte for byte.
 * Targets: no 5xx; p99 < 100 ms for describes and < 1 s for every other call; peak RSS < 300 MB.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateVolumeCommand, DeleteVolumeCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { CallLog, ec2Client, fmtMiB, fmtMs, RssWatch, sha256, sleep, startServer, type Figure, type PhaseResult, type SoakContext } from './harness.js';
import { spawnClientGroups, type GroupResult } from './load-clients.js';

const MiB = 2 ** 20;
const CALLS = ['CreateVolume', 'PUT data', 'CreateSnapshot', 'DescribeSnapshots', 'DescribeVolumes', 'DeleteSnapshot', 'DeleteVolume'];
const DESCRIBES = new Set(['DescribeSnapshots', 'DescribeVolumes']);

export interface LoadOptions {
  clients: number;
  /** Clients sharing one process (default CLIENTS_PER_PROCESS). */
  clientsPerProcess?: number | undefined;
  durationMs: number;
}

export async function runLoad(ctx: SoakContext, opts: LoadOptions): Promise<PhaseResult> {
  const dir = join(ctx.root, 'load');
  mkdirSync(dir, { recursive: true });
  const server = await startServer(ctx, dir, ['--allow-control']); // for GET /_ebs-sim/stats
  const rss = new RssWatch(server.child.pid!);
  const ec2 = ec2Client(server.endpoint);
  const log = new CallLog();
  const kept: Array<{ snapshotId: string; sha: string }> = [];
  const failures: string[] = [];
  try {
    const groups = await spawnClientGroups(
      { endpoint: server.endpoint, clients: opts.clients, durationMs: opts.durationMs, seed: ctx.seed },
      opts.clientsPerProcess,
    );
    for (const g of groups) {
      for (const [name, xs] of Object.entries(g.times)) for (const ms of xs) log.add(name, ms);
      for (const [key, n] of Object.entries(g.errors)) log.errors.set(key, (log.errors.get(key) ?? 0) + n);
      kept.push(...g.kept);
      failures.push(...g.failures);
    }
    const cycles = groups.reduce((n, g) => n + g.cycles, 0);
    // The busiest group's loop: what its calls' times hold beyond the server and the network.
    const clientLoop = groups.map((g) => g.loopDelayMs).reduce((a, b) => (b.p99 > a.p99 ? b : a));
    const stats = (await (await fetch(`${server.endpoint}/_ebs-sim/stats`)).json()) as ServerStats;
    ctx.log(`  load: ${cycles} cycles by ${opts.clients} clients; checking ${kept.length} kept snapshots`);
    // Every kept snapshot completes and restores to its first write.
    let checked = 0;
    for (const k of kept) {
      for (;;) {
        const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [k.snapshotId] }))).Snapshots![0]!;
        if (s.State === 'completed') break;
        if (s.State === 'error') {
          failures.push(`kept snapshot ${k.snapshotId} went to error: ${s.StateMessage}`);
          break;
        }
        await sleep(50);
      }
      const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: k.snapshotId }))).VolumeId!;
      const res = await fetch(`${server.endpoint}/data/volumes/${vol}?offset=0&length=${MiB}`);
      const got = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 || sha256(got) !== k.sha) failures.push(`kept snapshot ${k.snapshotId} restored to other bytes (${res.status})`);
      else checked++;
      await ec2.send(new DeleteVolumeCommand({ VolumeId: vol }));
    }
    const peak = rss.stop();
    if (log.serverErrors() > 0) failures.push(`${log.serverErrors()} calls answered 5xx or not at all: ${[...log.errors].map(([k, n]) => `${k} x${n}`).join(', ')}`);
    const figures: Figure[] = CALLS.map((name) => {
      const p99 = log.quantile(name, 0.99);
      const limit = DESCRIBES.has(name) ? 100 : 1000;
      return {
        phase: 'load',
        figure: `${name} p50 / p99 (${log.count(name)} calls)`,
        value: `${fmtMs(log.quantile(name, 0.5))} / ${fmtMs(p99)}`,
        target: `p99 < ${limit} ms`,
        ok: p99 < limit,
      };
    });
    figures.push(
      { phase: 'load', figure: `cycles by ${opts.clients} clients in ${groups.length} process${groups.length === 1 ? '' : 'es'} in ${Math.round(opts.durationMs / 1000)} s`, value: String(cycles) },
      { phase: 'load', figure: 'PUTs sent again after a kept-alive socket closed under them', value: String(groups.reduce((n, g) => n + g.resent, 0)) },
      { phase: 'load', figure: 'errors (all), of which 5xx', value: `${[...log.errors.values()].reduce((a, b) => a + b, 0)}, ${log.serverErrors()}`, target: 'no 5xx', ok: log.serverErrors() === 0 },
      { phase: 'load', figure: 'kept snapshots restored byte-exact', value: `${checked} of ${kept.length}`, target: 'all', ok: checked === kept.length },
      { phase: 'load', figure: 'server peak RSS', value: fmtMiB(peak), target: '< 300 MB', ok: peak < 300e6 },
      ...whereTimeGoes(stats, clientLoop, groups.length),
    );
    return { figures, failures };
  } finally {
    rss.stop();
    ec2.destroy();
    await server.stop();
  }
}

interface LockTimes {
  waited: { count: number; p50Ms: number; p99Ms: number; totalMs: number };
  held: { count: number; p50Ms: number; p99Ms: number; totalMs: number };
}

interface ServerStats {
  locks: Record<string, LockTimes>;
  requests: Record<string, { count: number; p50Ms: number; p99Ms: number }>;
  process: { uptimeSeconds: number; cpuUserSeconds: number; cpuSystemSeconds: number; eventLoopUtilization: number; eventLoopDelayMs: { p50: number; p99: number; max: number } };
}

/** The server's name for each call the clients time (see server/request-times.ts). */
const SERVER_LABEL: Record<string, string> = { 'PUT data': 'PUT /data/volumes/:volumeId' };

/**
 * The wall-clock split: each call as the server timed it beside the clients' view, the clients'
 * own event loop, CPU and event loop against wall time, and what each lock cost its callers.
 */
function whereTimeGoes(stats: ServerStats, clientLoop: GroupResult['loopDelayMs'], groups: number): Figure[] {
  const p = stats.process;
  const cpu = (p.cpuUserSeconds + p.cpuSystemSeconds) / p.uptimeSeconds;
  const out: Figure[] = CALLS.flatMap((name) => {
    const t = stats.requests[SERVER_LABEL[name] ?? name];
    return t ? [{ phase: 'load: where time goes', figure: `${name} as the server timed it: p50 / p99 (bucket bounds, up to 5% high)`, value: `${fmtMs(t.p50Ms)} / ${fmtMs(t.p99Ms)}` }] : [];
  });
  out.push(
    {
      phase: 'load: where time goes',
      figure: `the clients' own event-loop delay p50 / p99 / max, busiest of ${groups} client process${groups === 1 ? '' : 'es'} (in its calls' times as measured)`,
      value: `${fmtMs(clientLoop.p50)} / ${fmtMs(clientLoop.p99)} / ${fmtMs(clientLoop.max)}`,
    },
    { phase: 'load: where time goes', figure: 'server CPU (all threads) / wall time since start', value: `${(cpu * 100).toFixed(0)}% of one core (2 cores here)` },
    { phase: 'load: where time goes', figure: 'server event-loop utilization', value: `${(p.eventLoopUtilization * 100).toFixed(0)}%` },
    {
      phase: 'load: where time goes',
      figure: 'server event-loop delay p50 / p99 / max (stalls every call waits out)',
      value: `${fmtMs(p.eventLoopDelayMs.p50)} / ${fmtMs(p.eventLoopDelayMs.p99)} / ${fmtMs(p.eventLoopDelayMs.max)}`,
    },
  );
  for (const [name, t] of Object.entries(stats.locks)) {
    out.push({
      phase: 'load: where time goes',
      figure: `${name} lock: waited p50 / p99, held p50 / p99 (${t.held.count} runs)`,
      value: `${fmtMs(t.waited.p50Ms)} / ${fmtMs(t.waited.p99Ms)}, ${fmtMs(t.held.p50Ms)} / ${fmtMs(t.held.p99Ms)}`,
    });
  }
  return out;
}
