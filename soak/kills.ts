/**
 * kill -9 under load. Clients each own a volume and repeat: write a 64 KiB slot, sometimes
 * snapshot. After each kill and restart, every slot must hold its last acknowledged write (or
 * the one in flight at the kill), and every snapshot seen `completed` must restore to what the
 * volume held when it was taken. fsck runs on the data directory after the last restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSnapshotCommand, CreateVolumeCommand, DeleteVolumeCommand, DescribeSnapshotsCommand, paginateDescribeSnapshots } from '@aws-sdk/client-ec2';
import { runCli } from '../test/support/cli-server.js';
import { ec2Client, rng, sha256, sleep, startServer, type PhaseResult, type SoakContext } from './harness.js';

const SLOT = 64 * 1024;
const SLOTS = 16;

interface Volume {
  id: string;
  /** Per slot: the last acknowledged write's digest, and the one in flight (may or may not have landed). */
  acked: Array<string | undefined>;
  inFlight: Array<string | undefined>;
}

interface Snapshot {
  id: string;
  /** Digests of the slots when it was taken (undefined: never written, zeroes). */
  slots: Array<string | undefined>;
  completed: boolean;
}

export async function runKills(ctx: SoakContext, opts: { kills: number; clients: number; durationMs: number }): Promise<PhaseResult> {
  const dir = join(ctx.root, 'kills');
  mkdirSync(dir, { recursive: true });
  const r = rng(ctx.seed + 1);
  const failures: string[] = [];
  const volumes: Volume[] = [];
  const snapshots: Snapshot[] = [];
  const zeroSlot = sha256(Buffer.alloc(SLOT));
  let writes = 0;
  let checkedSnapshots = 0;
  const perRound = Math.max(500, opts.durationMs / opts.kills);

  for (let round = 0; round <= opts.kills; round++) {
    const server = await startServer(ctx, dir);
    const ec2 = ec2Client(server.endpoint);
    try {
      // Check what the previous rounds acknowledged.
      for (const v of volumes) {
        const res = await fetch(`${server.endpoint}/data/volumes/${v.id}?offset=0&length=${SLOT * SLOTS}`);
        const data = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200) {
          failures.push(`after kill ${round}: read of ${v.id} answered ${res.status}`);
          continue;
        }
        for (let s = 0; s < SLOTS; s++) {
          const got = sha256(data.subarray(s * SLOT, (s + 1) * SLOT));
          const ok = [v.acked[s] ?? zeroSlot, v.inFlight[s]].includes(got);
          if (!ok) failures.push(`after kill ${round}: ${v.id} slot ${s} lost its acknowledged write`);
          if (v.inFlight[s] === got) v.acked[s] = got; // it landed
          v.inFlight[s] = undefined;
        }
      }
      // Every snapshot acknowledged is there; one seen completed still is; none went to error.
      const states = new Map<string, { State?: string; StateMessage?: string }>();
      for await (const page of paginateDescribeSnapshots({ client: ec2 }, { OwnerIds: ['self'] })) for (const x of page.Snapshots ?? []) states.set(x.SnapshotId!, x);
      for (const snap of snapshots) {
        const s = states.get(snap.id);
        if (!s) failures.push(`after kill ${round}: snapshot ${snap.id} is gone`);
        else if (snap.completed && s.State !== 'completed') failures.push(`after kill ${round}: completed snapshot ${snap.id} is ${s.State}`);
        else if (s.State === 'error') failures.push(`after kill ${round}: snapshot ${snap.id} went to error: ${s.StateMessage}`);
      }
      if (round === opts.kills) {
        // Last round: wait for every snapshot and restore each completed one.
        for (const snap of snapshots) {
          for (let i = 0; ; i++) {
            const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.id] }))).Snapshots![0]!;
            if (s.State !== 'pending') {
              snap.completed = s.State === 'completed';
              if (!snap.completed) failures.push(`snapshot ${snap.id} ended ${s.State}: ${s.StateMessage}`);
              break;
            }
            await sleep(50);
          }
          if (!snap.completed) continue;
          const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap.id }))).VolumeId!;
          const data = Buffer.from(await (await fetch(`${server.endpoint}/data/volumes/${vol}?offset=0&length=${SLOT * SLOTS}`)).arrayBuffer());
          for (let s = 0; s < SLOTS; s++) {
            if (sha256(data.subarray(s * SLOT, (s + 1) * SLOT)) !== (snap.slots[s] ?? zeroSlot)) failures.push(`snapshot ${snap.id} slot ${s} restored to other bytes`);
          }
          await ec2.send(new DeleteVolumeCommand({ VolumeId: vol }));
          checkedSnapshots++;
        }
        break;
      }
      // Load until the kill.
      while (volumes.length < opts.clients) {
        const id = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
        volumes.push({ id, acked: new Array(SLOTS).fill(undefined), inFlight: new Array(SLOTS).fill(undefined) });
      }
      let killed = false;
      const clients = volumes.map(async (v) => {
        while (!killed) {
          const s = r.int(0, SLOTS - 1);
          const data = randomBytes(SLOT);
          v.inFlight[s] = sha256(data);
          try {
            const res = await fetch(`${server.endpoint}/data/volumes/${v.id}?offset=${s * SLOT}`, { method: 'PUT', body: data });
            if (res.status !== 200) throw new Error(`PUT answered ${res.status}`);
            await res.arrayBuffer();
            v.acked[s] = v.inFlight[s];
            v.inFlight[s] = undefined;
            writes++;
            if (r.next() < 0.03) {
              const slots = [...v.acked];
              const id = (await ec2.send(new CreateSnapshotCommand({ VolumeId: v.id }))).SnapshotId!;
              const snap: Snapshot = { id, slots, completed: false };
              snapshots.push(snap);
              void (async () => {
                while (!killed) {
                  const st = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0]!.State;
                  if (st === 'completed') return void (snap.completed = true);
                  await sleep(50);
                }
              })().catch(() => undefined);
            }
          } catch {
            return; // killed mid-call: what was in flight stays in flight
          }
        }
      });
      await sleep(perRound * (0.5 + r.next()));
      killed = true;
      server.child.kill('SIGKILL');
      await Promise.all(clients);
    } finally {
      ec2.destroy();
      await server.stop();
    }
  }
  const fsck = await runCli(['fsck', '--data-dir', join(dir, 'leveldb')]);
  if (fsck.code !== 0) failures.push(`fsck after the last kill: exit ${fsck.code}: ${fsck.stdout}${fsck.stderr}`);
  ctx.log(`  kills: ${opts.kills} kill -9s, ${writes} acknowledged writes, ${snapshots.length} snapshots`);
  return {
    figures: [
      { phase: 'kill -9', figure: `kill -9s of the server under load (${opts.clients} clients)`, value: String(opts.kills) },
      { phase: 'kill -9', figure: 'acknowledged writes, all checked after every restart', value: String(writes), target: 'none lost', ok: !failures.some((f) => f.includes('slot')) },
      { phase: 'kill -9', figure: 'snapshots restored byte-exact after the last restart', value: `${checkedSnapshots} of ${snapshots.length}`, target: 'all', ok: checkedSnapshots === snapshots.length },
      { phase: 'kill -9', figure: 'fsck after the last restart', value: fsck.code === 0 ? 'clean' : `exit ${fsck.code}`, target: 'clean', ok: fsck.code === 0 },
    ],
    failures,
  };
}
