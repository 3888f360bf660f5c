/**
 * The load's clients: each repeats the cycle create volume, write 1 MiB, snapshot, write again,
 * describe, delete the snapshot or keep it, delete the volume, until the time is up.
 *
 * They run in several processes of at most CLIENTS_PER_PROCESS clients by default (`spawnClientGroups`):
 * 50 AWS SDK clients in one event loop keep that loop saturated (measured: its own delay p99
 * 138 ms, while the server answered describes in 2.5 ms at p99), so a call's time as one process
 * measured it was mostly its wait behind the other clients' work in that process. A group is this
 * file run as a script; it prints its results as one JSON line.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CreateSnapshotCommand, CreateVolumeCommand, DeleteSnapshotCommand, DeleteVolumeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand,
} from '@aws-sdk/client-ec2';
import { CallLog, ec2Client, rng, sha256, sleep } from './harness.js';

const MiB = 2 ** 20;
export const CLIENTS_PER_PROCESS = 10;

export interface GroupConfig {
  endpoint: string;
  clients: number;
  durationMs: number;
  seed: number;
}

/** What one group of clients saw. */
export interface GroupResult {
  times: Record<string, number[]>;
  errors: Record<string, number>;
  kept: Array<{ snapshotId: string; sha: string }>;
  failures: string[];
  cycles: number;
  /** PUTs sent again because the kept-alive socket they went out on had been closed. */
  resent: number;
  /** The group's own event-loop delay (ms): the part of its calls' times that was its own queue. */
  loopDelayMs: { p50: number; p99: number; max: number };
}

export async function runGroup(cfg: GroupConfig): Promise<GroupResult> {
  const ec2 = ec2Client(cfg.endpoint);
  const log = new CallLog();
  const kept: GroupResult['kept'] = [];
  const failures: string[] = [];
  const r = rng(cfg.seed);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const agent = new Agent({ keepAlive: true, maxSockets: cfg.clients });
  let resent = 0;
  const put = async (volumeId: string, data: Buffer) => {
    const url = new URL(`${cfg.endpoint}/data/volumes/${volumeId}?offset=0`);
    const res = await log.time('PUT data', async () => {
      try {
        return await putOnce(agent, url, data);
      } catch (err) {
        // The server closed a kept-alive socket as this request went out on it. A PUT at an
        // offset is idempotent, so it is sent again, as Node's docs advise (and fetch does).
        if (!(err as { reusedSocket?: boolean }).reusedSocket) throw err;
        resent++;
        return putOnce(agent, url, data);
      }
    });
    if (res.status !== 200) throw new Error(`PUT ${volumeId}: ${res.status} ${res.body}`);
  };
  let cycles = 0;
  const end = performance.now() + cfg.durationMs;
  try {
    await Promise.all(Array.from({ length: cfg.clients }, async (_, c) => {
      while (performance.now() < end) {
        try {
          const volumeId = (await log.time('CreateVolume', () => ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 })))).VolumeId!;
          const first = randomBytes(MiB);
          await put(volumeId, first);
          const snapshotId = (await log.time('CreateSnapshot', () => ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId })))).SnapshotId!;
          await put(volumeId, randomBytes(MiB));
          await log.time('DescribeSnapshots', () => ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })));
          await log.time('DescribeVolumes', () => ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] })));
          if (r.next() < 0.5) await log.time('DeleteSnapshot', () => ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })));
          else kept.push({ snapshotId, sha: sha256(first) });
          await log.time('DeleteVolume', () => ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId })));
          cycles++;
        } catch (err) {
          if (log.errors.size === 0) failures.push(`client ${c}: ${(err as Error).message}`);
          await sleep(100);
        }
      }
    }));
  } finally {
    loop.disable();
    ec2.destroy();
    agent.destroy();
  }
  return {
    times: Object.fromEntries(log.times),
    errors: Object.fromEntries(log.errors),
    kept,
    failures,
    cycles,
    resent,
    loopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  };
}

/**
 * One PUT over node:http. Not fetch: fetch copies a 1 MiB body through web streams, CPU that on
 * 2 cores the clients take from the server they measure (the clients' 5 processes used more CPU
 * than the server did). The error says whether the request went out on a reused socket.
 */
function putOnce(agent: Agent, url: URL, data: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'PUT', agent, headers: { 'content-length': data.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    req.end(data);
  });
}

const SELF = fileURLToPath(import.meta.url);
const TSX = pathToFileURL(join(SELF, '../../node_modules/tsx/dist/loader.mjs')).href;

/** Runs `clients` clients in groups of at most `perProcess`, each group its own process. */
export async function spawnClientGroups(cfg: GroupConfig, perProcess = CLIENTS_PER_PROCESS): Promise<GroupResult[]> {
  const groups = Math.ceil(cfg.clients / perProcess);
  return Promise.all(Array.from({ length: groups }, async (_, g) => {
    const clients = Math.floor(cfg.clients / groups) + (g < cfg.clients % groups ? 1 : 0);
    const child = spawn(process.execPath, ['--import', TSX, SELF, JSON.stringify({ ...cfg, clients, seed: cfg.seed + g })], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    const line = out.trim().split('\n').pop() ?? '';
    if (code !== 0 || !line.startsWith('{')) throw new Error(`load client group ${g} exited ${code}: ${out.slice(-500)}`);
    return JSON.parse(line) as GroupResult;
  }));
}

if (process.argv[1] === SELF) {
  runGroup(JSON.parse(process.argv[2]!) as GroupConfig).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
