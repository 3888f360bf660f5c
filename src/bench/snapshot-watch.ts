/**
 * Follows snapshots as a user does: DescribeSnapshots, polled, until each is completed, keeping
 * every Progress it reports against time, and showing it live.
 */
import type { ProgressDisplay } from './progress-display.js';
import type { PublicClient } from './public-client.js';
import type { SnapshotRun } from './results.js';

export interface Started {
  snapshotId: string;
  volumeId?: string;
  group: string;
  position: number;
  kind: SnapshotRun['kind'];
  bytesWritten: number;
  /** performance.now() when CreateSnapshot (or StartSnapshot) was sent. */
  sentAt: number;
}

/** The quickest polling, for copies that are just starting. */
const MIN_POLL_MS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const fmtBytes = (n: number) =>
  n >= 1024 ** 3 ? `${+(n / 1024 ** 3).toFixed(2)} GiB` : n >= 1024 ** 2 ? `${+(n / 1024 ** 2).toFixed(1)} MiB` : `${+(n / 1024).toFixed(0)} KiB`;

export function snapshotLabel(s: Pick<Started, 'snapshotId' | 'kind' | 'bytesWritten'>): string {
  return `${s.snapshotId} ${s.kind.padEnd(11)} ${fmtBytes(s.bytesWritten).padStart(9)}`;
}

/** Polls (every pollMs at most) until every snapshot is completed (throws on `error`); `runStart` is the run's performance.now() origin. */
export async function watchSnapshots(
  client: PublicClient, started: Started[], display: ProgressDisplay, pollMs: number, runStart: number, addToDisplay = true,
): Promise<SnapshotRun[]> {
  const runs = new Map<string, SnapshotRun>(started.map((s) => [s.snapshotId, {
    snapshotId: s.snapshotId, ...(s.volumeId ? { volumeId: s.volumeId } : {}), group: s.group, position: s.position, kind: s.kind,
    bytesWritten: s.bytesWritten, startMs: s.sentAt - runStart, durationMs: Number.NaN, bytesPerSec: Number.NaN, samples: [],
  }]));
  const sentAt = new Map(started.map((s) => [s.snapshotId, s.sentAt]));
  if (addToDisplay) for (const s of started) display.add(s.snapshotId, snapshotLabel(s));
  const open = new Set(runs.keys());
  while (open.size > 0) {
    const states = await client.describeSnapshots([...open]);
    const now = performance.now();
    for (const id of [...open]) {
      const state = states.get(id);
      if (!state) throw new Error(`DescribeSnapshots no longer lists ${id}`);
      if (state.state === 'error') throw new Error(`snapshot ${id} went to error: ${state.message ?? 'no StateMessage'}`);
      const run = runs.get(id)!;
      const t = now - sentAt.get(id)!;
      run.samples.push({ t, progress: state.progress });
      const bytesPerSec = ((state.progress / 100) * run.bytesWritten) / (t / 1000);
      const left = (1 - state.progress / 100) * run.bytesWritten;
      const shown = { progress: state.progress, bytesPerSec, etaSeconds: bytesPerSec > 0 ? left / bytesPerSec : undefined };
      display.update(id, shown);
      if (state.state === 'completed') {
        run.durationMs = t;
        run.bytesPerSec = run.bytesWritten / (t / 1000);
        open.delete(id);
        display.done(id, shown, t / 1000);
      }
    }
    // Quick polls while the copies are young, so a short (incremental) copy's time is not
    // rounded up to the polling interval; then every pollMs, so polling does not load the server.
    const youngest = Math.min(...[...open].map((id) => now - sentAt.get(id)!));
    if (open.size > 0) await sleep(Math.min(pollMs, Math.max(MIN_POLL_MS, youngest / 20)));
  }
  return started.map((s) => runs.get(s.snapshotId)!);
}
