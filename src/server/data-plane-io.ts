/**
 * What the data-plane routes share (volumes in data-plane-plugin.ts, instance devices in
 * guest-plane-plugin.ts): raw streamed bodies, byte-range parameters, the caller's account under
 * SigV4, JSON errors, and cutting large transfers into pieces.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataCaller } from '../simulator.js';
import type { Authenticator } from './auth.js';
import { DataPlaneRequestError, toDataPlaneError } from './data-plane-errors.js';

export const PIECE_BYTES = 8 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** Bodies are read by the PUT handlers as they arrive, not buffered by fastify. */
export function rawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
}

export function integerParam(query: Record<string, string | undefined>, name: string, fallback?: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new DataPlaneRequestError(400, 'MISSING_PARAMETER', `The query parameter ${name} is required.`);
  }
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new DataPlaneRequestError(400, 'INVALID_PARAMETER_VALUE', `The query parameter ${name} must be a non-negative integer number of bytes, got '${raw}'.`);
  }
  return Number(raw);
}

/** The caller's account (none under `--auth none`: everything is reachable). */
export function dataCaller(auth: Authenticator) {
  return (request: FastifyRequest, unsignedPayload: boolean): DataCaller => {
    if (auth.mode === 'none') return {};
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const signed = request.headers.authorization !== undefined || /[?&]X-Amz-Signature=/i.test(url);
    if (unsignedPayload && signed && request.headers['x-amz-content-sha256'] !== 'UNSIGNED-PAYLOAD') {
      throw new DataPlaneRequestError(400, 'INVALID_SIGNATURE', 'Sign data-plane writes with the header x-amz-content-sha256: UNSIGNED-PAYLOAD (the body is written as it streams in).');
    }
    const who = auth.authenticate(
      { method: request.method, path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: request.headers, body: EMPTY },
      { allowUnsignedPayload: unsignedPayload },
    );
    return { accountId: who.accountId };
  };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = toDataPlaneError(err);
  if (e.internal) request.log.error({ err }, 'data plane request failed');
  // An unread request body cannot be left on a keep-alive connection.
  if (!request.raw.readableEnded) reply.header('connection', 'close');
  if (err instanceof RangeError416) reply.header('content-range', `bytes */${err.sizeBytes}`);
  // A read that failed after its 200's headers were set (not sent): those were the bytes'.
  reply.removeHeader('content-length');
  return reply.code(e.status).type('application/json; charset=utf-8').send(e.body);
}

export class RangeError416 extends DataPlaneRequestError {
  constructor(message: string, readonly sizeBytes: number) {
    super(416, 'OFFSET_OUT_OF_RANGE', message);
  }
}

export function checkTransfer(id: string, sizeBytes: number, offset: number, length: number, max: number): void {
  if (!Number.isSafeInteger(length) || length < 0) throw new DataPlaneRequestError(400, 'INVALID_PARAMETER_VALUE', 'Content-Length must be a non-negative integer.');
  if (length > max) throw new DataPlaneRequestError(413, 'PAYLOAD_TOO_LARGE', `A data-plane transfer is limited to ${max} bytes per request; this one is ${length} bytes. Split it into several requests.`);
  if (offset + length > sizeBytes) {
    throw new RangeError416(`range [${offset}, ${offset + length}) is beyond the end of ${id} (${sizeBytes} bytes)`, sizeBytes);
  }
}

/** The declared Content-Length, checked before any byte is written. */
export function declaredLength(request: FastifyRequest): number | undefined {
  return request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
}

/**
 * A PUT's body, accepted whole by `check(length)` (which throws to refuse it) before a byte of it
 * is written: a refused request changes nothing. With a Content-Length the check is made up
 * front and the body streams through (an aborted upload leaves a prefix, as a disk would). A
 * chunked body has no length until it ends: it is held (in memory up to one piece, past that in
 * a spool file in `spoolDir`) and checked as it arrives, so one over its limit is refused before
 * any write. `length` is the body's, declared or counted. Call `release` once the body was
 * consumed, or not.
 */
export async function checkedBody(
  request: FastifyRequest,
  check: (length: number) => void,
  spoolDir: string,
): Promise<{ body: AsyncIterable<Buffer>; length: number; release(): Promise<void> }> {
  const declared = declaredLength(request);
  if (declared !== undefined) {
    check(declared);
    return { body: request.raw, length: declared, release: async () => undefined };
  }
  const held: Buffer[] = [];
  let heldBytes = 0;
  let total = 0;
  let spool: { path: string; file: Awaited<ReturnType<typeof open>> } | undefined;
  const release = async () => {
    await spool?.file.close().catch(() => undefined);
    if (spool) await rm(spool.path, { force: true });
  };
  try {
    for await (const chunk of request.raw as AsyncIterable<Buffer>) {
      total += chunk.length;
      check(total);
      if (!spool && heldBytes + chunk.length <= PIECE_BYTES) {
        held.push(chunk);
        heldBytes += chunk.length;
        continue;
      }
      if (!spool) {
        const path = join(spoolDir, `upload-${randomUUID()}`);
        spool = { path, file: await open(path, 'w+', 0o600) };
      }
      await spool.file.write(chunk);
    }
    check(total); // an empty body too
  } catch (err) {
    await release();
    throw err;
  }
  const spooled = spool;
  async function* body(): AsyncGenerator<Buffer> {
    yield* held;
    if (spooled) yield* createReadStream(spooled.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
  }
  return { body: body(), length: total, release };
}

/**
 * Full-size piece buffers, reused across requests: a fresh 8 MiB buffer per piece made glibc's
 * heap grow and stay grown under sustained writes (the scale benchmark's server peaked over 300
 * MB there), and one per read cost the server a garbage collection every ~70 ms of restore reads.
 * A few are kept: each one resident is 8 MiB.
 */
const PIECES_KEPT = 4;
const freePieces: Buffer[] = [];

/** Only once nothing reads or writes `piece` any more. */
function givePiece(piece: Buffer): void {
  if (piece.length === PIECE_BYTES && freePieces.length < PIECES_KEPT) freePieces.push(piece);
}

/** Below this, a read takes a free piece if there is one but makes none: V8 counts a new piece's 8 MiB, not the bytes used. */
const SMALL_READ = 1024 * 1024;

/**
 * A read of `length` (up to PIECE_BYTES) into a reused piece buffer, sent as the reply. The piece
 * goes back once both the read has settled (nothing writes to it then, see readRange) and the
 * response is done with it: sent, or its connection gone, which may come first.
 */
export async function sendReadPiece(reply: FastifyReply, length: number, read: (into?: Buffer) => Promise<Buffer>): Promise<FastifyReply> {
  const piece = freePieces.pop() ?? (length >= SMALL_READ ? Buffer.allocUnsafeSlow(PIECE_BYTES) : undefined);
  if (!piece) return reply.send(await read());
  let users = 2;
  const done = () => {
    if (--users === 0) givePiece(piece);
  };
  reply.raw.once('close', done);
  try {
    return reply.send(await read(piece));
  } finally {
    done();
  }
}

/**
 * Cuts a byte stream of `expected` bytes (fewer if the upload is cut short) into pieces that end
 * on PIECE_BYTES boundaries of the volume; returns bytes written. Each piece is copied into a
 * buffer reused by later requests: `write` must keep nothing of it once it resolves (the core and
 * the page cache copy what they keep).
 */
export async function writePieces(
  body: AsyncIterable<Buffer>,
  offset: number,
  expected: number,
  write: (at: number, piece: Buffer) => Promise<void>,
): Promise<number> {
  let at = offset;
  let piece: Buffer | undefined;
  let filled = 0;
  const emit = async () => {
    const full = piece!;
    await write(at, full.subarray(0, filled));
    at += filled;
    filled = 0;
    piece = undefined;
    givePiece(full); // not after a failed write: something may still be reading that piece
  };
  for await (const chunk of body) {
    for (let used = 0; used < chunk.length; ) {
      const room = PIECE_BYTES - (at % PIECE_BYTES);
      // A small body takes a buffer of its own size, not a whole piece.
      piece ??= freePieces.pop() ?? Buffer.allocUnsafeSlow(Math.min(room, Math.max(offset + expected - at, chunk.length - used)));
      const end = Math.min(room, piece.length); // where this piece is full
      const copied = chunk.copy(piece, filled, used, Math.min(chunk.length, used + end - filled));
      filled += copied;
      used += copied;
      if (filled === end) await emit();
    }
  }
  if (filled > 0) await emit();
  return at - offset;
}

/**
 * The bytes of [offset, offset + length), read a piece at a time. The first piece is read before
 * this resolves, so that an error there is still answered with its own status; a later one can
 * only cut the stream short.
 */
export async function readPieces(offset: number, length: number, read: (at: number, n: number) => Promise<Buffer>): Promise<AsyncIterable<Buffer>> {
  const piece = (at: number) => Math.min(PIECE_BYTES - (at % PIECE_BYTES), offset + length - at);
  const first = await read(offset, piece(offset));
  async function* rest(): AsyncGenerator<Buffer> {
    yield first;
    for (let at = offset + first.length; at < offset + length; ) {
      const n = piece(at);
      yield await read(at, n);
      at += n;
    }
  }
  return rest();
}
