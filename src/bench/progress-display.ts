/**
 * What a bench run shows while it runs: one live bar per snapshot (cli-progress) with its Progress
 * as DescribeSnapshots reports it, MB/s and ETA; on a stream that is not a terminal, plain lines
 * instead (each 10% step, and when a snapshot completes).
 */
import cliProgress from 'cli-progress';

export interface SnapshotProgress {
  /** DescribeSnapshots' Progress, percent. */
  progress: number;
  /** Bytes per second since CreateSnapshot (progress × bytes to copy / elapsed). */
  bytesPerSec: number;
  /** Seconds left at that rate; undefined until there is a rate. */
  etaSeconds: number | undefined;
}

export interface ProgressDisplay {
  /** A new snapshot to show. */
  add(id: string, label: string): void;
  update(id: string, p: SnapshotProgress): void;
  /** The snapshot completed: its bar becomes a line of the log, so bars never outnumber the screen. */
  done(id: string, p: SnapshotProgress, seconds: number): void;
  /** A line of text above the bars (or among the plain lines). */
  log(line: string): void;
  /** Ends the bars (the terminal is left as a log). */
  stop(): void;
}

export const fmtRate = (bytesPerSec: number) => `${(bytesPerSec / 1e6).toFixed(bytesPerSec < 1e7 ? 1 : 0)} MB/s`;
export const fmtEta = (s: number | undefined) =>
  s === undefined || !Number.isFinite(s) ? '--' : s < 60 ? `${s.toFixed(s < 10 ? 1 : 0)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;

export function progressDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  return stream.isTTY ? new Bars(stream) : new PlainLines(stream);
}

class Bars implements ProgressDisplay {
  private readonly multi: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly labelOf = new Map<string, string>();

  private stopped = false;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.multi = new cliProgress.MultiBar({
      stream,
      format: ' {label} [{bar}] {percentage}% | {rate} | ETA {etaText}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
      autopadding: true,
    }, cliProgress.Presets.shades_classic);
  }

  add(id: string, label: string): void {
    this.labelOf.set(id, label);
    this.bars.set(id, this.multi.create(100, 0, { label, rate: fmtRate(0), etaText: '--' }));
  }

  update(id: string, p: SnapshotProgress): void {
    this.bars.get(id)?.update(p.progress, { rate: fmtRate(p.bytesPerSec), etaText: p.progress >= 100 ? 'done' : fmtEta(p.etaSeconds) });
  }

  done(id: string, p: SnapshotProgress, seconds: number): void {
    const bar = this.bars.get(id);
    if (!bar) return;
    this.bars.delete(id);
    this.multi.remove(bar);
    this.multi.log(` ${this.labelOf.get(id) ?? id}  completed in ${seconds.toFixed(2)} s, ${fmtRate(p.bytesPerSec)}\n`);
  }

  log(line: string): void {
    // Once stopped, nothing renders cli-progress's log buffer: write the line as it is.
    if (this.stopped) this.stream.write(`${line}\n`);
    else this.multi.log(`${line}\n`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // cli-progress writes logged lines at its next render, which stop() alone never does: the
    // last snapshot's "completed" line and what came after it were lost.
    this.multi.update();
    this.multi.stop();
  }
}

class PlainLines implements ProgressDisplay {
  private readonly labels = new Map<string, string>();
  private readonly lastStep = new Map<string, number>();

  constructor(private readonly stream: NodeJS.WriteStream) {}

  add(id: string, label: string): void {
    this.labels.set(id, label);
    this.lastStep.set(id, -1);
  }

  update(id: string, p: SnapshotProgress): void {
    if (!this.labels.has(id)) return; // followed, not shown
    const step = Math.floor(p.progress / 10);
    if (step <= (this.lastStep.get(id) ?? -1)) return;
    this.lastStep.set(id, step);
    this.log(`  ${this.labels.get(id) ?? id}  ${String(Math.round(p.progress)).padStart(3)}%  ${fmtRate(p.bytesPerSec)}  ETA ${p.progress >= 100 ? 'done' : fmtEta(p.etaSeconds)}`);
  }

  done(id: string, p: SnapshotProgress): void {
    this.update(id, p); // its 100% line, if not printed yet
  }

  log(line: string): void {
    this.stream.write(`${line}\n`);
  }

  stop(): void {}
}
