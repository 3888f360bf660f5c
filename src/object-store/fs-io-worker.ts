/**
 * One I/O thread of the fs store (see fs-io-threads.ts): each job done whole with synchronous
 * syscalls, one message each way.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { FsIoJob, FsIoReply, FsReadJob, FsWriteJob } from './fs-io-messages.js';
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

function readSlice(fd: number, offset: number, length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(length);
  const bytes = scratch.subarray(0, length);
  for (let done = 0; done < length; ) {
    const n = readSync(fd, bytes, done, length - done, offset + done);
    if (n === 0) throw Object.assign(new Error('short read: the source file ends before the slice'), { code: 'EIO' });
    done += n;
  }
  return bytes;
}

function write(job: FsWriteJob): boolean {
  if (job.ifAbsent) {
    try {
      if (statSync(job.target).isFile()) return false;
    } catch (err) {
      if (!absent(codeOf(err))) throw err;
    }
  }
  const body = 'buffer' in job ? new Uint8Array(job.buffer, job.offset, job.length) : readSlice(job.fd, job.offset, job.length);
  const fd = openSync(job.temp, 'wx');
  try {
    for (let done = 0; done < body.length; ) done += writeSync(fd, body, done, body.length - done, done);
    if (job.durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
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
  return true;
}

function read(job: FsReadJob): { buffer: ArrayBuffer; length: number; sha256: string | undefined } {
  const fd = openSync(job.path, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = job.offset ?? 0;
    const length = Math.max(0, Math.min(job.length ?? size, size - start));
    const bytes = new Uint8Array(new ArrayBuffer(length));
    let done = 0;
    while (done < length) {
      const n = readSync(fd, bytes, done, length - done, start + done);
      if (n === 0) break; // truncated underneath us
      done += n;
    }
    const sha256 = job.sha256 ? createHash('sha256').update(bytes.subarray(0, done)).digest('hex') : undefined;
    return { buffer: bytes.buffer, length: done, sha256 };
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
      const reply: FsIoReply = { id: job.id, buffer, length, ...(sha256 !== undefined ? { sha256 } : {}) };
      port.postMessage(reply, [buffer]);
    } else {
      port.postMessage({ id: job.id, stored: write(job) } satisfies FsIoReply);
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
