/**
 * One I/O thread of the fs store (see fs-io-threads.ts): each job done whole with synchronous
 * syscalls, one message each way.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { FsIoJob, FsIoReply, FsReadJob, FsWriteJob } from './fs-io-messages.js';
import { AlignedBuffer, directSize } from '../platform/direct-io.js';
import { MadeDirs } from './made-dirs.js';

/** May go stale when a delete prunes a directory: rename then fails with ENOENT, and it is made again. */
const madeDirs = new MadeDirs();
const codeOf = (err: unknown) => (err as { code?: string } | null)?.code;
const absent = (code: string | undefined) => code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** This thread's buffer for file slices, grown as needed. */
let scratch = new Uint8Array(0);

function readInto(fd: number, into: Uint8Array, offset: number): void {
  for (let done = 0; done < into.length; ) {
    const n = readSync(fd, into, done, into.length - done, offset + done);
    if (n === 0) throw Object.assign(new Error('short read: the source file ends before the slice'), { code: 'EIO' });
    done += n;
  }
}

function readSlice(fd: number, offset: number, length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(length);
  const bytes = scratch.subarray(0, length);
  readInto(fd, bytes, offset);
  return bytes;
}

/** This thread's buffer for direct I/O; refused once the file system has said no. */
const aligned = new AlignedBuffer();

/**
 * Writes the temp file with O_DIRECT, from this thread's aligned buffer: the bytes go to the disk
 * without new page-cache pages. Returns false (and no file) where direct I/O is not to be had.
 */
function writeDirect(job: FsWriteJob): boolean {
  let fd: number;
  try {
    fd = openSync(job.temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, 0o666);
  } catch (err) {
    if (codeOf(err) !== 'EINVAL') throw err;
    aligned.refuse(); // ramfs (and tmpfs before Linux 6.6) refuse O_DIRECT at open
    rmSync(job.temp, { force: true }); // after creating the file: the write through the cache makes it again
    return false;
  }
  let written = false;
  try {
    const bytes = aligned.bytes(fd, job.length);
    if (!bytes) return false;
    if ('buffer' in job) bytes.set(new Uint8Array(job.buffer, job.offset, job.length));
    else readInto(job.fd, bytes, job.offset);
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, done);
    if (job.durable) fsyncSync(fd);
    written = true;
    return true;
  } finally {
    closeSync(fd);
    if (!written) rmSync(job.temp, { force: true });
  }
}

/** Whether the object was stored (not: `ifAbsent` found it), and whether with O_DIRECT. */
function write(job: FsWriteJob): { stored: boolean; direct: boolean } {
  if (job.ifAbsent) {
    try {
      if (statSync(job.target).isFile()) return { stored: false, direct: false };
    } catch (err) {
      if (!absent(codeOf(err))) throw err;
    }
  }
  const directly = job.direct && !aligned.refused && directSize(job.length) && writeDirect(job);
  if (!directly) {
    const body = 'buffer' in job ? new Uint8Array(job.buffer, job.offset, job.length) : readSlice(job.fd, job.offset, job.length);
    const fd = openSync(job.temp, 'wx');
    try {
      for (let done = 0; done < body.length; ) done += writeSync(fd, body, done, body.length - done, done);
      if (job.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  const dir = dirname(job.target);
  for (let attempt = 1; ; attempt++) {
    if (!madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      madeDirs.add(dir);
    }
    try {
      renameSync(job.temp, job.target);
      break;
    } catch (err) {
      madeDirs.delete(dir);
      if (codeOf(err) !== 'ENOENT' || attempt >= 5) throw err;
    }
  }
  // Directories made by mkdir -p are only durable once their parents are synced too.
  if (job.durable) {
    for (let d = dir; ; d = dirname(d)) {
      syncDir(d);
      if (d === job.root || !d.startsWith(job.root + sep)) break;
    }
  }
  return { stored: true, direct: directly };
}

/** `buffer` undefined: the bytes went into the job's `into`. */
type ReadResult = { buffer: ArrayBuffer | undefined; length: number; sha256: string | undefined };

/** Where `length` bytes read for `job` go: its slot of shared memory if they fit, else a buffer to transfer. */
function destination(job: FsReadJob, length: number): Uint8Array {
  const into = job.into;
  return into && length <= into.length ? new Uint8Array(into.buffer, into.offset, length) : new Uint8Array(new ArrayBuffer(length));
}

function result(out: Uint8Array, length: number, hash: boolean | undefined): ReadResult {
  const sha256 = hash ? createHash('sha256').update(out.subarray(0, length)).digest('hex') : undefined;
  return { buffer: out.buffer instanceof SharedArrayBuffer ? undefined : (out.buffer as ArrayBuffer), length, sha256 };
}

/**
 * A whole block object read with O_DIRECT into this thread's aligned buffer, then copied into
 * the job's slot or the buffer handed back: straight from the disk, as direct writes leave it,
 * without filling new page-cache pages. Undefined where that is not to be had (then read through
 * the cache).
 */
function readDirect(job: FsReadJob): ReadResult | undefined {
  let fd: number;
  try {
    fd = openSync(job.path, constants.O_RDONLY | constants.O_DIRECT);
  } catch (err) {
    if (codeOf(err) !== 'EINVAL') throw err;
    aligned.refuse();
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    if (!directSize(size)) return undefined;
    const bytes = aligned.bytes(fd, size, true);
    if (!bytes) return undefined;
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, done);
      if (n === 0) break; // truncated underneath us
      done += n;
    }
    const out = destination(job, done);
    out.set(bytes.subarray(0, done));
    return result(out, done, job.sha256);
  } finally {
    closeSync(fd);
  }
}

function read(job: FsReadJob): ReadResult {
  if (job.direct && !aligned.refused && job.offset === undefined && job.length === undefined) {
    const got = readDirect(job);
    if (got) return got;
  }
  const fd = openSync(job.path, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = job.offset ?? 0;
    const length = Math.max(0, Math.min(job.length ?? size, size - start));
    const bytes = destination(job, length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, bytes, done, length - done, start + done);
      if (n === 0) break; // truncated underneath us
      done += n;
    }
    return result(bytes, done, job.sha256);
  } finally {
    closeSync(fd);
  }
}

const port = parentPort;
if (!port) throw new Error('fs-io-worker.ts runs as a worker thread of the fs store');
port.on('message', (job: FsIoJob) => {
  try {
    if (job.op === 'read') {
      const { buffer, length, sha256 } = read(job);
      const reply: FsIoReply = { id: job.id, length, ...(buffer ? { buffer } : {}), ...(sha256 !== undefined ? { sha256 } : {}) };
      port.postMessage(reply, buffer ? [buffer] : []);
    } else {
      port.postMessage({ id: job.id, ...write(job) } satisfies FsIoReply);
    }
  } catch (err) {
    if (job.op === 'write') {
      try {
        rmSync(job.temp, { force: true });
      } catch {
        // the temp file is swept at the next open
      }
    }
    const error = { message: String((err as Error | null)?.message), ...(codeOf(err) !== undefined ? { code: codeOf(err)! } : {}) };
    port.postMessage({ id: job.id, error } satisfies FsIoReply);
  }
});
