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
 * is written while it streams in. The same I/O through an instance's page cache is in
 * guest-plane-plugin.ts.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Simulator } from '../simulator.js';
import type { Authenticator } from './auth.js';
import {
  checkedBody, checkTransfer, dataCaller, integerParam, PIECE_BYTES, rawBodies, readPieces, sendError, sendReadPiece, writePieces,
} from './data-plane-io.js';

export interface DataPlaneOptions {
  sim: Simulator;
  auth: Authenticator;
  /** Largest PUT body and GET length, in bytes. */
  maxTransferBytes: number;
}

interface VolumeParams {
  volumeId: string;
}

export async function dataPlanePlugin(app: FastifyInstance, opts: DataPlaneOptions): Promise<void> {
  const { sim, maxTransferBytes } = opts;
  const caller = dataCaller(opts.auth);
  rawBodies(app);

  app.put<{ Params: VolumeParams; Querystring: Record<string, string> }>('/data/volumes/:volumeId', async (request, reply) => {
    try {
      const who = caller(request, true);
      const id = request.params.volumeId;
      const offset = integerParam(request.query, 'offset'); // required: a write at an offset nobody gave is a bug
      const { sizeBytes } = sim.services.volumes.forIo(who, id);
      const { body, length: bodyLength, release } = await checkedBody(request, (length) => checkTransfer(id, sizeBytes, offset, length, maxTransferBytes), sim.spoolDir);
      const written = await writePieces(body, offset, bodyLength, (at, piece) => sim.services.volumes.write(who, id, at, piece)).finally(release);
      return reply.code(200).send({ volumeId: id, offset, length: written });
    } catch (err) {
      return sendError(request, reply, err);
    }
  });

  app.get<{ Params: VolumeParams; Querystring: Record<string, string> }>('/data/volumes/:volumeId', async (request, reply) => {
    try {
      const who = caller(request, false);
      const id = request.params.volumeId;
      const offset = integerParam(request.query, 'offset', 0);
      const length = integerParam(request.query, 'length');
      const { sizeBytes } = sim.services.volumes.forIo(who, id);
      checkTransfer(id, sizeBytes, offset, length, maxTransferBytes);
      reply.code(200).type('application/octet-stream').header('content-length', length);
      if (length <= PIECE_BYTES) return await sendReadPiece(reply, length, (into) => sim.services.volumes.read(who, id, offset, length, into));
      return reply.send(Readable.from(await readPieces(offset, length, (at, n) => sim.services.volumes.read(who, id, at, n))));
    } catch (err) {
      return sendError(request, reply, err);
    }
  });

  app.post<{ Params: VolumeParams }>('/data/volumes/:volumeId/flush', async (request, reply) => {
    try {
      const who = caller(request, false);
      await sim.services.volumes.flush(who, request.params.volumeId);
      return reply.code(200).send({ volumeId: request.params.volumeId, flushed: true });
    } catch (err) {
      return sendError(request, reply, err);
    }
  });
}
