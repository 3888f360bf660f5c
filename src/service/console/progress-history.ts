/**
 * Each snapshot copy's progress over time, for the console's chart: sampled from the copy
 * engine's status events (every saved checkpoint), so a copy's history exists whether or not a
 * console page watched it. In memory, for the life of the open simulator: the most recent
 * snapshots' copies, at most one sample per interval each, and always the last one.
 */
import type { CopyStatus } from '../../copy/copy-status.js';
import type { CallerContext, ServiceState } from '../context.js';
import { visibleSnapshot } from '../state/snapshot-access.js';

export interface ProgressSample {
  /** Wall-clock ms (throughput is real time, whatever the simulated clock says). */
  t: number;
  progress: number;
  blocksDone: number;
  bytesUploaded: number;
}

const SAMPLE_EVERY_MS = 100;
const MAX_SAMPLES = 600;
const MAX_SNAPSHOTS = 200;

export class ProgressHistory {
  private readonly bySnapshot = new Map<string, ProgressSample[]>();

  record(st: CopyStatus, now = Date.now()): void {
    let samples = this.bySnapshot.get(st.snapshotId);
    if (!samples) {
      if (st.state !== 'pending') return; // a copy seen only once it was over has no history
      this.bySnapshot.set(st.snapshotId, (samples = []));
      if (this.bySnapshot.size > MAX_SNAPSHOTS) this.bySnapshot.delete(this.bySnapshot.keys().next().value!);
      // The first event is the first checkpoint: the copy started, at 0, when the snapshot did
      // (its start time is the simulated clock's, which is the wall clock unless a test advanced it).
      const started = Date.parse(st.startedAt);
      if (started <= now) samples.push({ t: started, progress: 0, blocksDone: 0, bytesUploaded: 0 });
    }
    const sample = { t: now, progress: st.progress, blocksDone: st.blocksDone, bytesUploaded: st.bytesUploaded };
    const last = samples[samples.length - 1];
    // Checkpoints can come every block: keep one an interval, but always the copy's end.
    if (last && now - last.t < SAMPLE_EVERY_MS && st.state === 'pending') samples[samples.length - 1] = sample;
    else samples.push(sample);
    if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
  }

  samples(snapshotId: string): ProgressSample[] {
    return [...(this.bySnapshot.get(snapshotId) ?? [])];
  }
}

const histories = new WeakMap<ServiceState, ProgressHistory>();

/** The history of this open simulator's copies, listening to its engine from the first call. */
export function progressHistoryOf(s: ServiceState): ProgressHistory {
  let h = histories.get(s);
  if (!h) {
    const history = (h = new ProgressHistory());
    histories.set(s, history);
    s.engine.statuses.on('status', (st) => history.record(st));
  }
  return h;
}

/** A snapshot's samples, for a caller who may see it. */
export function progressSamples(s: ServiceState, ctx: CallerContext, snapshotId: string): ProgressSample[] {
  visibleSnapshot(s.catalog.getSnapshot(snapshotId), ctx, snapshotId);
  return progressHistoryOf(s).samples(snapshotId);
}
