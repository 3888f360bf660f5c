/**
 * The fs store's puts and gets, each done whole by one worker thread with plain synchronous
 * syscalls. A put: (stat,) open the temp file, write, (fsync,) close, mkdir if needed, rename,
 * (sync the directories). A get: open, fstat, read, close. One message each way per object
 * instead of one thread-pool round trip per syscall: measured here, 25-30% more throughput for
 * 512 KiB puts and less CPU per object, since each round trip costs a wake-up of another thread
 * and a callback on the event loop. The event loop itself never blocks on these syscalls.
 *
 * A put's bytes reach the worker without a copy when they live in a SharedArrayBuffer (the copy
 * engine reads blocks into a pool of such buffers). Any other body is copied once, into an
 * ArrayBuffer moved to the thread: not into a fresh SharedArrayBuffer, which the thread's heap
 * would keep until its next GC, rare in a thread that allocates so little (measured: 2,000 puts
 * of 512 KiB, each in a fresh one, kept 1 GiB resident; moved copies peaked at 125 MiB). A put may
 * also name a slice of an open file instead: the thread reads it (copy from file to file, one
 * message, no JavaScript buffer), and only when `ifAbsent` found no object. A get's bytes come
 * back in an ArrayBuffer the worker transfers: an ordinary Buffer, not a copy (or, for a
 * recyclable get, in a slot of shared memory lent to the caller until it is handed back); with
 * their SHA-256 if asked, so that checking a downloaded block costs the event loop nothing.
 *
 * A put stays atomic and crash-safe exactly as in fs-store.ts: only the rename publishes it.
 * The threads run fs-io-worker.ts.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FsIoJob, FsIoReply } from './fs-io-messages.js';
import { SharedBuffers } from './shared-buffers.js';

export interface WriteJob {
  /** Temp file to create (must not exist). */
  temp: string;
  /** Final path, published by rename. */
  target: string;
  /** The store's root: durable puts sync the directories from the target's up to it. */
  root: string;
  /** The bytes, or where to read them (only once `ifAbsent` found no object). */
  body: Uint8Array | { fd: number; offset: number; length: number };
  /** Store only if no file is at `target` yet. */
  ifAbsent: boolean;
  durable: boolean;
  /** O_DIRECT for bodies in whole 4 KiB units, where the file system allows (else buffered). */
  direct: boolean;
}

/** An error from a worker, with the errno code of the syscall that failed (ENOENT, EEXIST...). */
export class FsIoError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * The worker's file: its TypeScript source under tests (run through tsx's loader), the compiled
 * JavaScript in the build.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './fs-io-worker.ts' : './fs-io-worker.js', import.meta.url);

function startWorker(): Worker {
  // No inherited node flags: the parent's loaders (vitest's, tsx's) do not reach a thread.
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { execArgv: [] });
  // tsx resolved from this file, not from the eval's base (the working directory, which may be anywhere).
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, execArgv: [] });
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve(reply: FsIoReply): void; reject(err: unknown): void }>;
}

export class FsIoThreads {
  readonly #slots: Array<Slot | undefined>;
  /** Shared memory that reads go into, reused; each slot's bytes are one body while lent. */
  readonly #readSlots = new SharedBuffers(64);
  /** Slots whose bytes are a caller's body now. */
  readonly #lent = new WeakSet<SharedArrayBuffer>();
  #nextId = 0;
  #inflight = 0;
  #drained: (() => void) | undefined;
  #closed = false;

  /** Threads start on first use (or at start()); 2 to 4, following the cores. */
  constructor(count = Math.min(4, Math.max(2, availableParallelism()))) {
    this.#slots = new Array<Slot | undefined>(count).fill(undefined);
  }

  /**
   * Starts every thread now, rather than when first needed: each takes ~100 ms to boot (measured
   * here: the first two puts after open took 98-102 ms, the next ones 2-3 ms), which a server's
   * first snapshot copy would otherwise wait for. They boot in the background.
   */
  start(): void {
    if (this.#closed) return;
    for (let i = 0; i < this.#slots.length; i++) this.#slot(i);
  }

  /** Threads started (and not since stopped). */
  get running(): number {
    return this.#slots.filter((s) => s !== undefined).length;
  }

  /** Whether the object was stored (false: `ifAbsent` and it was there), and if with O_DIRECT. */
  async write(job: WriteJob): Promise<{ stored: boolean; direct: boolean }> {
    const { body } = job;
    let bytes: { buffer: SharedArrayBuffer | ArrayBuffer; offset: number; length: number } | { fd: number; offset: number; length: number };
    const transfer: ArrayBuffer[] = [];
    if (body instanceof Uint8Array && body.buffer instanceof SharedArrayBuffer) {
      bytes = { buffer: body.buffer, offset: body.byteOffset, length: body.byteLength };
    } else if (body instanceof Uint8Array) {
      const copy = new Uint8Array(body); // its own ArrayBuffer, moved to the thread
      transfer.push(copy.buffer);
      bytes = { buffer: copy.buffer, offset: 0, length: copy.byteLength };
    } else {
      bytes = { fd: body.fd, offset: body.offset, length: body.length };
    }
    const reply = await this.#send({ op: 'write', temp: job.temp, target: job.target, root: job.root, ...bytes, ifAbsent: job.ifAbsent, durable: job.durable, direct: job.direct }, transfer);
    return { stored: reply.stored === true, direct: reply.direct === true };
  }

  /** A file's bytes, or `length` of them from `offset` (clipped at its end). */
  async read(path: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const reply = await this.#send({ op: 'read', path, ...(range ? { offset: range.offset, length: range.length } : {}) });
    return Buffer.from(reply.buffer!, 0, reply.length!);
  }

  /**
   * A whole file's bytes and their SHA-256 (hex), hashed by the thread that read them. With
   * `recyclable`, a file of up to that many bytes is read into a slot of shared memory this
   * reuses once the caller hands the body back (recycle): the event loop then gets no new buffer
   * per read, nor the garbage collections that 200 MB/s of them cost (most of a restore's CPU).
   */
  async readWithSha256(path: string, direct = false, recyclable?: number): Promise<{ body: Buffer; sha256: string }> {
    const slot = recyclable ? this.#readSlots.take(recyclable) : undefined;
    let reply: FsIoReply;
    try {
      reply = await this.#send({ op: 'read', path, sha256: true, direct, ...(slot ? { into: { buffer: slot.buffer as SharedArrayBuffer, offset: 0, length: slot.length } } : {}) });
    } catch (err) {
      if (slot) this.#readSlots.give(slot); // the thread is done with it
      throw err;
    }
    if (reply.buffer) {
      if (slot) this.#readSlots.give(slot); // too large for it: read into a buffer of its own
      return { body: Buffer.from(reply.buffer, 0, reply.length!), sha256: reply.sha256! };
    }
    this.#lent.add(slot!.buffer as SharedArrayBuffer);
    return { body: slot!.subarray(0, reply.length!), sha256: reply.sha256! };
  }

  /** A body readWithSha256 read into a slot, no longer used by anyone: the slot may be read into again. */
  recycle(body: Buffer): void {
    const sab = body.buffer;
    if (!(sab instanceof SharedArrayBuffer) || !this.#lent.delete(sab)) return; // not a slot, or handed back already
    this.#readSlots.give(Buffer.from(sab));
  }

  /** Waits for the jobs in flight (so no put leaves a temp file behind), then stops the threads. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    const slots = this.#slots.filter((s): s is Slot => s !== undefined);
    this.#slots.fill(undefined);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #send(message: DistributiveOmit<FsIoJob, 'id'>, transfer: ArrayBuffer[] = []): Promise<FsIoReply> {
    if (this.#closed) return Promise.reject(new Error('the fs store threads are stopped'));
    const id = ++this.#nextId;
    const slot = this.#slot(this.#leastBusy());
    this.#inflight++;
    return new Promise<FsIoReply>((resolve, reject) => {
      // Referenced while it holds a job: the process must not exit under an awaited put.
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      try {
        slot.worker.postMessage({ id, ...message }, transfer);
      } catch (err) {
        slot.pending.delete(id); // never sent: nothing will answer it
        if (slot.pending.size === 0) slot.worker.unref();
        throw err;
      }
    }).finally(() => {
      if (--this.#inflight === 0) this.#drained?.();
    });
  }

  /**
   * The thread with the fewest jobs queued, the first on a tie (so a thread starts only when the
   * others are busy): a slow job, a cold read or a long inode search, holds up no job that an
   * idle thread could take, as it did when jobs went round in turn.
   */
  #leastBusy(): number {
    const load = (i: number) => this.#slots[i]?.pending.size ?? 0;
    let best = 0;
    for (let i = 1; i < this.#slots.length; i++) if (load(i) < load(best)) best = i;
    return best;
  }

  #slot(index: number): Slot {
    const existing = this.#slots[index];
    if (existing) return existing;
    const worker = startWorker();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (reply: FsIoReply) => {
      const waiter = slot.pending.get(reply.id);
      if (!waiter) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if (reply.error) waiter.reject(new FsIoError(reply.error.message, reply.error.code));
      else waiter.resolve(reply);
    });
    // A thread that dies fails what it held; the next write starts a new one.
    const fail = (err: unknown) => {
      if (this.#slots[index] === slot) this.#slots[index] = undefined;
      for (const waiter of slot.pending.values()) waiter.reject(err);
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`fs store thread exited with code ${code}`)));
    worker.unref(); // after the listeners, which reference it again: an idle thread never keeps the process alive
    this.#slots[index] = slot;
    return slot;
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
