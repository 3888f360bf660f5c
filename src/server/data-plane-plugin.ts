/**
 * The data plane on the API port:
 *   PUT  /data/volumes/{volumeId}?offset=N            raw body: the bytes to write at offset N
 *   GET  /data/volumes/{volumeId}?offset=N&length=M   the bytes
 *   POST /data/volumes/{volumeId}/flush               makes acknowledged writes durable
 * Bodies stream through in pieces of at most 8 MiB (aligned to 8 MiB of the volume), so a large
 * request never sits in memory whole; each piece is one atomic core write, so a snapshot taken
 * during a large PUT sees a prefix of it, as with a disk. Errors: JSON `{code, message}`.
 * Under `--auth sigv4` requests are SigV4-signed (any service name); PUTs are signed with
 * `x-amz-content-sha256: UNSIGNED-PAYLOAD`, as EBS direct's PutSnapshotBlock is, since the body
 * is written while it streams in.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Simulator } from '../simulator.js';
import type { Authenticator } from './auth.js';
import { DataPlaneRequestError, toDataPlaneError } from './data-plane-errors.js';

export interface DataPlaneOptions {
  sim: Simulator;
  auth: Authenticator;
  /** Largest PUT body and GET length, in bytes. */
  maxTransferBytes: number;
}

export const PIECE_BYTES = 8 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

interface VolumeParams {
  volumeId: string;
}

function integerParam(query: Record<string, string | undefined>, name: string, fallback?: number): number {
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

export async function dataPlanePlugin(app: FastifyInstance, opts: DataPlaneOptions): Promise<void> {
  const { sim, auth, maxTransferBytes } = opts;
  // Bodies are read by the PUT handler as they arrive, not buffered by fastify.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  const caller = (request: FastifyRequest, unsignedPayload: boolean) => {
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

  const fail = (request: FastifyRequest, reply: FastifyReply, err: unknown) => {
    const e = toDataPlaneError(err);
    if (e.internal) request.log.error({ err }, 'data plane request failed');
    // An unread request body cannot be left on a keep-alive connection.
    if (!request.raw.readableEnded) reply.header('connection', 'close');
    if (err instanceof RangeError416) reply.header('content-range', `bytes */${err.sizeBytes}`);
    return reply.code(e.status).send(e.body);
  };

  app.put<{ Params: VolumeParams; Querystring: Record<string, string> }>('/data/volumes/:volumeId', async (request, reply) => {
    try {
      const who = caller(request, true);
      const id = request.params.volumeId;
      const offset = integerParam(request.query, 'offset', 0);
      const { sizeBytes } = sim.volumeForIo(who, id);
      const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
      if (declared !== undefined) checkTransfer(id, sizeBytes, offset, declared, maxTransferBytes);
      const written = await writePieces(request.raw, offset, (at, piece) => {
        checkTransfer(id, sizeBytes, offset, at + piece.length - offset, maxTransferBytes);
        return sim.writeVolume(who, id, at, piece);
      });
      return reply.code(200).send({ volumeId: id, offset, length: written });
    } catch (err) {
      return fail(request, reply, err);
    }
  });

  app.get<{ Params: VolumeParams; Querystring: Record<string, string> }>('/data/volumes/:volumeId', async (request, reply) => {
    try {
      const who = caller(request, false);
      const id = request.params.volumeId;
      const offset = integerParam(request.query, 'offset', 0);
      const length = integerParam(request.query, 'length');
      const { sizeBytes } = sim.volumeForIo(who, id);
      checkTransfer(id, sizeBytes, offset, length, maxTransferBytes);
      reply.code(200).type('application/octet-stream').header('content-length', length);
      if (length <= PIECE_BYTES) return reply.send(await sim.readVolume(who, id, offset, length));
      // Read errors after the first piece can only cut the stream short: the status is sent.
      return reply.send(Readable.from(readPieces(offset, length, (at, n) => sim.readVolume(who, id, at, n))));
    } catch (err) {
      return fail(request, reply, err);
    }
  });

  app.post<{ Params: VolumeParams }>('/data/volumes/:volumeId/flush', async (request, reply) => {
    try {
      const who = caller(request, false);
      await sim.flushVolume(who, request.params.volumeId);
      return reply.code(200).send({ volumeId: request.params.volumeId, flushed: true });
    } catch (err) {
      return fail(request, reply, err);
    }
  });
}

class RangeError416 extends DataPlaneRequestError {
  constructor(message: string, readonly sizeBytes: number) {
    super(416, 'OFFSET_OUT_OF_RANGE', message);
  }
}

function checkTransfer(id: string, sizeBytes: number, offset: number, length: number, max: number): void {
  if (!Number.isSafeInteger(length) || length < 0) throw new DataPlaneRequestError(400, 'INVALID_PARAMETER_VALUE', 'Content-Length must be a non-negative integer.');
  if (length > max) throw new DataPlaneRequestError(413, 'PAYLOAD_TOO_LARGE', `A data-plane transfer is limited to ${max} bytes per request; this one is ${length} bytes. Split it into several requests.`);
  if (offset + length > sizeBytes) {
    throw new RangeError416(`range [${offset}, ${offset + length}) is beyond the end of ${id} (${sizeBytes} bytes)`, sizeBytes);
  }
}

/** Cuts a byte stream into pieces that end on PIECE_BYTES boundaries of the volume; returns bytes written. */
async function writePieces(body: AsyncIterable<Buffer>, offset: number, write: (at: number, piece: Buffer) => Promise<void>): Promise<number> {
  let at = offset;
  let held: Buffer[] = [];
  let heldBytes = 0;
  const room = () => PIECE_BYTES - (at % PIECE_BYTES);
  const emit = async (n: number) => {
    const all = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
    await write(at, all.subarray(0, n));
    at += n;
    const rest = all.subarray(n);
    held = rest.length > 0 ? [rest] : [];
    heldBytes = rest.length;
  };
  for await (const chunk of body) {
    held.push(chunk);
    heldBytes += chunk.length;
    while (heldBytes >= room()) await emit(room());
  }
  if (heldBytes > 0) await emit(heldBytes);
  return at - offset;
}

async function* readPieces(offset: number, length: number, read: (at: number, n: number) => Promise<Buffer>): AsyncGenerator<Buffer> {
  for (let at = offset; at < offset + length; ) {
    const n = Math.min(PIECE_BYTES - (at % PIECE_BYTES), offset + length - at);
    yield await read(at, n);
    at += n;
  }
}
