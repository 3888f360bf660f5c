/** The messages between the fs store and its I/O threads (fs-io-threads.ts, fs-io-worker.ts). */

/**
 * A put: the bytes (in a SharedArrayBuffer, or an ArrayBuffer moved to the thread), or a slice of
 * an open file the thread reads itself.
 */
export type FsWriteJob = {
  op: 'write';
  id: number;
  temp: string;
  target: string;
  root: string;
  ifAbsent: boolean;
  durable: boolean;
  /** Write block-sized bodies with O_DIRECT, past the page cache, where the file system allows. */
  direct: boolean;
} & ({ buffer: SharedArrayBuffer | ArrayBuffer; offset: number; length: number } | { fd: number; offset: number; length: number });

export interface FsReadJob {
  op: 'read';
  id: number;
  path: string;
  offset?: number;
  length?: number;
  /** Hash what was read, in the thread. */
  sha256?: boolean;
  /** A whole block object: read it with O_DIRECT where the file system allows. */
  direct?: boolean;
  /** A slot of shared memory the store lends (fs-io-threads.ts): an object that fits is read into it, not into a new buffer. */
  into?: { buffer: SharedArrayBuffer; offset: number; length: number };
}

export type FsIoJob = FsWriteJob | FsReadJob;

export interface FsIoReply {
  id: number;
  stored?: boolean;
  /** The put went past the page cache (O_DIRECT). */
  direct?: boolean;
  /** The bytes read, unless they went into the job's `into`. */
  buffer?: ArrayBuffer;
  length?: number;
  sha256?: string;
  error?: { message: string; code?: string };
}
