/**
 * Shared pieces of the benchmarks: temp dirs, unique random blocks without holding gigabytes,
 * a memory watcher, tinybench result access and a report that prints every figure beside its
 * same-run baseline. Machines are shared and noisy: compare ratios, not absolute times.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, Task } from 'tinybench';

export const MiB = 1024 * 1024;
export const BLOCK = 512 * 1024;

/**
 * Where benchmarks keep their files: EBS_SIM_BENCH_DIR, or `.bench-out/` in the repository. Not
 * /tmp: on these machines it is an ext4 without a journal where file creation is slow, and our
 * test runs churn it (see docs/design-notes.md).
 */
export const BENCH_DIR = process.env.EBS_SIM_BENCH_DIR ?? fileURLToPath(new URL('../.bench-out', import.meta.url));

export function tempDir(label: string): { dir: string; remove(): void } {
  mkdirSync(BENCH_DIR, { recursive: true });
  const dir = mkdtempSync(join(BENCH_DIR, `ebs-sim-bench-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Unique pseudo-random blocks from a small pool: the first 16 bytes carry the block's number. */
export class BlockSource {
  private readonly pool: Buffer[];

  constructor(poolSize = 32, blockSize = BLOCK) {
    this.pool = Array.from({ length: poolSize }, () => randomBytes(blockSize));
  }

  block(n: number): Buffer {
    const b = this.pool[n % this.pool.length]!;
    b.writeUInt32BE(n, 0);
    b.writeUInt32BE(Math.floor(n / this.pool.length), 4);
    b.writeDoubleBE(Math.random(), 8); // distinct across runs too, so nothing dedups by accident
    return b;
  }
}

/**
 * Peak resident memory, sampled (anonymous and file-backed) plus the kernel's high-water mark,
 * of this process or of another one (a server under test).
 */
export class MemoryWatch {
  private peakAnon = 0;
  private peakFile = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number | 'self' = 'self') {
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref();
  }

  sample(): void {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    this.peakAnon = Math.max(this.peakAnon, kb('RssAnon'));
    this.peakFile = Math.max(this.peakFile, kb('RssFile'));
  }

  /** Current resident memory, for a note between phases. */
  now(label: string): void {
    const status = readFileSync('/proc/self/status', 'utf8');
    const mb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024);
    console.log(`  [memory after ${label}: anon ${mb('RssAnon')} MiB, file-backed ${mb('RssFile')} MiB, high-water ${mb('VmHWM')} MiB]`);
  }

  stop(): { peakRss: number; peakAnon: number; peakFile: number } {
    clearInterval(this.timer);
    this.sample();
    const hwm = this.pid === 'self' ? process.resourceUsage().maxRSS * 1024 : this.field('VmHWM');
    return { peakRss: hwm, peakAnon: this.peakAnon, peakFile: this.peakFile };
  }

  private field(name: string): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  }
}

export function stats(bench: Bench, name: string) {
  const task = bench.getTask(name) as Task | undefined;
  const r = task?.result;
  if (!r || r.state !== 'completed') throw new Error(`benchmark task ${name} did not complete: ${JSON.stringify(r)}`);
  return r;
}

export interface Row {
  figure: string;
  ours: string;
  baseline: string;
  ratio: number | undefined;
  target: string;
  met: boolean | undefined;
}

export class Report {
  readonly rows: Row[] = [];

  constructor(readonly title: string) {}

  add(row: Row): void {
    this.rows.push(row);
    const verdict = row.met === undefined ? '' : row.met ? 'target met' : 'TARGET MISSED';
    console.log(`  ${row.figure}: ${row.ours}  vs ${row.baseline}  ratio ${row.ratio?.toFixed(2) ?? '-'}  (${row.target}) ${verdict}`);
  }

  print(): void {
    console.log(`\n== ${this.title} ==`);
    console.table(
      this.rows.map((r) => ({
        figure: r.figure,
        ours: r.ours,
        baseline: r.baseline,
        ratio: r.ratio === undefined ? '' : r.ratio.toFixed(2),
        target: r.target,
        met: r.met === undefined ? '' : r.met ? 'yes' : 'NO',
      })),
    );
  }
}

export const fmtMs = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
export const fmtMBs = (bytesPerSec: number) => `${(bytesPerSec / 1e6).toFixed(0)} MB/s`;
export const fmtMB = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
