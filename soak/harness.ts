/**
 * What every soak phase shares: a server to start (and kill), EC2 clients, call timing, server
 * memory, and the findings a phase reports. Loopback only.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { serve, type Served } from '../bench/served.js';
import { Rng } from '../test/support/random.js';

export interface SoakContext {
  /** Where the phases keep their servers' data (not /tmp: see bench/support.ts). */
  root: string;
  /** Run the build in dist/ (npm run soak) or the sources (the short version in npm test). */
  compiled: boolean;
  seed: number;
  log(line: string): void;
}

/** One line of the figures table. */
export interface Figure {
  phase: string;
  figure: string;
  value: string;
  /** The target it is held to, if any, and whether it was met. */
  target?: string;
  ok?: boolean;
}

export interface PhaseResult {
  figures: Figure[];
  /** Anything acknowledged that was lost, any answer that was not a proper error: each is a failure. */
  failures: string[];
}

export function startServer(ctx: SoakContext, dir: string, args: string[] = [], objectStore?: string): Promise<Served> {
  return serve(dir, args, { compiled: ctx.compiled, ...(objectStore ? { objectStore } : {}) });
}

export function ec2Client(endpoint: string, key = { accessKeyId: 'soak', secretAccessKey: 'soak' }): EC2Client {
  return new EC2Client({ region: 'us-east-1', endpoint, credentials: key, maxAttempts: 1 });
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Latencies by call name, and errors by name and code. */
export class CallLog {
  readonly times = new Map<string, number[]>();
  readonly errors = new Map<string, number>();

  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      const out = await fn();
      this.add(name, performance.now() - t);
      return out;
    } catch (err) {
      const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
      const key = `${name} ${e.$metadata?.httpStatusCode ?? '?'} ${e.Code ?? e.name ?? 'Error'}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
      throw err;
    }
  }

  add(name: string, ms: number): void {
    let xs = this.times.get(name);
    if (!xs) this.times.set(name, (xs = []));
    xs.push(ms);
  }

  quantile(name: string, q: number): number {
    const xs = [...(this.times.get(name) ?? [])].sort((a, b) => a - b);
    return xs.length === 0 ? NaN : xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  }

  count(name: string): number {
    return this.times.get(name)?.length ?? 0;
  }

  /** Errors answered with a 5xx (or no answer at all). */
  serverErrors(): number {
    let n = 0;
    for (const [key, count] of this.errors) if (/ (5\d\d|\?) /.test(key)) n += count;
    return n;
  }
}

/** Peak resident memory of a process, sampled. */
export class RssWatch {
  peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 100);
    this.timer.unref();
  }

  sample(): number {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1] ?? 0);
      this.peak = Math.max(this.peak, kb * 1024);
      return kb * 1024;
    } catch {
      return 0; // the process is gone
    }
  }

  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peak;
  }
}

/** Seeded choices (the tests' mulberry32), so a failing run can be repeated with its seed. */
export const rng = (seed: number) => new Rng(seed);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const fmtMs = (ms: number) => (Number.isNaN(ms) ? '-' : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms).toLocaleString('en-US')} ms`);
export const fmtMiB = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
