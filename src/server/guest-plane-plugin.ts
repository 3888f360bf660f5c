/**
 * Guest I/O on the API port: what an instance's OS does with its disks, through its simulated
 * page cache (see service/instances/guest-io.ts). `{device}` is the attachment's device without `/dev/`.
 *   GET  /data/instances/{id}                                   devices, their volumes, dirty bytes, frozen
 *   PUT  /data/instances/{id}/devices/{device}?offset=N         write (lands in the page cache)
 *   GET  /data/instances/{id}/devices/{device}?offset=N&length=M read (sees the guest's cached writes)
 *   POST /data/instances/{id}/devices/{device}/fsync            write that device's dirty pages back
 *   POST /data/instances/{id}/devices/{device}/freeze | /thaw   fsfreeze: write back, hold writes until thaw
 *   POST /data/instances/{id}/sync                              write every device back
 *   POST /data/instances/{id}/freeze | /thaw                    every device at once
 *   POST /data/instances/{id}/crash                             power loss: every dirty page is lost
 * Bodies stream in 8 MiB pieces, as for volumes. Errors: JSON `{code, message}`.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { GuestFlushReport, Simulator } from '../simulator.js';
import type { Authenticator } from './auth.js';
import {
  checkedBody, checkTransfer, dataCaller, integerParam, PIECE_BYTES, rawBodies, readPieces, sendError, writePieces,
} from './data-plane-io.js';

export interface GuestPlaneOptions {
  sim: Simulator;
  auth: Authenticator;
  /** Largest PUT body and GET length, in bytes. */
  maxTransferBytes: number;
}

interface InstanceParams {
  instanceId: string;
}

interface DeviceParams extends InstanceParams {
  device: string;
}

type Query = Record<string, string>;

export async function guestPlanePlugin(app: FastifyInstance, opts: GuestPlaneOptions): Promise<void> {
  const { sim, maxTransferBytes } = opts;
  const caller = dataCaller(opts.auth);
  rawBodies(app);

  app.get<{ Params: InstanceParams }>('/data/instances/:instanceId', async (request, reply) => {
    try {
      return reply.code(200).send(sim.services.guests.describe(caller(request, false), request.params.instanceId));
    } catch (err) {
      return sendError(request, reply, err);
    }
  });

  app.put<{ Params: DeviceParams; Querystring: Query }>('/data/instances/:instanceId/devices/:device', async (request, reply) => {
    try {
      const who = caller(request, true);
      const { instanceId, device } = request.params;
      const name = `/dev/${device} of ${instanceId}`;
      const offset = integerParam(request.query, 'offset'); // required: a write at an offset nobody gave is a bug
      const { sizeBytes } = sim.services.guests.deviceForIo(who, instanceId, device);
      const { body, length: bodyLength, release } = await checkedBody(request, (length) => checkTransfer(name, sizeBytes, offset, length, maxTransferBytes), sim.spoolDir);
      const written = await writePieces(body, offset, bodyLength, (at, piece) => sim.services.guests.write(who, instanceId, device, at, piece)).finally(release);
      return reply.code(200).send({ instanceId, device: `/dev/${device}`, offset, length: written });
    } catch (err) {
      return sendError(request, reply, err);
    }
  });

  app.get<{ Params: DeviceParams; Querystring: Query }>('/data/instances/:instanceId/devices/:device', async (request, reply) => {
    try {
      const who = caller(request, false);
      const { instanceId, device } = request.params;
      const offset = integerParam(request.query, 'offset', 0);
      const length = integerParam(request.query, 'length');
      const { sizeBytes } = sim.services.guests.deviceForIo(who, instanceId, device);
      checkTransfer(`/dev/${device} of ${instanceId}`, sizeBytes, offset, length, maxTransferBytes);
      reply.code(200).type('application/octet-stream').header('content-length', length);
      if (length <= PIECE_BYTES) return reply.send(await sim.services.guests.read(who, instanceId, device, offset, length));
      return reply.send(Readable.from(await readPieces(offset, length, (at, n) => sim.services.guests.read(who, instanceId, device, at, n))));
    } catch (err) {
      return sendError(request, reply, err);
    }
  });

  const deviceAction = (path: string, act: (p: DeviceParams, who: ReturnType<typeof caller>) => Promise<GuestFlushReport> | GuestFlushReport) =>
    app.post<{ Params: DeviceParams }>(`/data/instances/:instanceId/devices/:device/${path}`, async (request, reply) => {
      try {
        return reply.code(200).send(await act(request.params, caller(request, false)));
      } catch (err) {
        return sendError(request, reply, err);
      }
    });
  deviceAction('fsync', (p, who) => sim.services.guests.fsync(who, p.instanceId, p.device));
  deviceAction('freeze', (p, who) => sim.services.guests.freeze(who, p.instanceId, p.device));
  deviceAction('thaw', (p, who) => sim.services.guests.thaw(who, p.instanceId, p.device));

  const instanceAction = (path: string, act: (id: string, who: ReturnType<typeof caller>) => Promise<GuestFlushReport> | GuestFlushReport) =>
    app.post<{ Params: InstanceParams }>(`/data/instances/:instanceId/${path}`, async (request, reply) => {
      try {
        return reply.code(200).send(await act(request.params.instanceId, caller(request, false)));
      } catch (err) {
        return sendError(request, reply, err);
      }
    });
  instanceAction('sync', (id, who) => sim.services.guests.sync(who, id));
  instanceAction('crash', (id, who) => sim.services.guests.crash(who, id));
  instanceAction('freeze', (id, who) => sim.services.guests.freeze(who, id));
  instanceAction('thaw', (id, who) => sim.services.guests.thaw(who, id));
}
