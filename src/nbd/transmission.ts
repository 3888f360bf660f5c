import type { Socket } from 'node:net';
import { allocationExtents } from './block-status.js';
import { errnoFor } from './errno-map.js';
import type { Session } from './handshake.js';
import { InflightBudget } from './inflight-budget.js';
import { errorMessage, ProtocolError, type NbdLog } from './log.js';
import {
  BASE_ALLOCATION_ID,
  Command,
  CommandFlag,
  Errno,
  REQUEST_HEADER_BYTES,
  REQUEST_MAGIC,
  TransmissionFlag,
} from './protocol.js';
import { direction, parseRequest, payloadBytes, validate, type ExportView, type Request } from './request.js';
import type { SocketReader } from './socket-reader.js';
import { blockStatusChunk, errorChunk, offsetDataHeader, simpleReply } from './wire.js';

export interface TransmissionContext {
  socket: Socket;
  reader: SocketReader;
  log: NbdLog;
  maxInflightBytes: number;
  maxInflightRequests: number;
}

/**
 * The transmission phase: read requests and serve them concurrently; replies go out as
 * each finishes (matched by handle), so they may be out of order. Returns after
 * NBD_CMD_DISC once every request in flight has been answered; rejects on a protocol
 * violation or a lost connection, also only after every device call has settled, so the
 * caller may close the device right away.
 */
export async function transmit(ctx: TransmissionContext, session: Session): Promise<void> {
  const { reader } = ctx;
  const budget = new InflightBudget(ctx.maxInflightBytes, ctx.maxInflightRequests);
  const inflight = new Set<Promise<void>>();
  const out = new ReplyWriter(ctx.socket);
  const exp: ExportView = {
    size: session.device.size,
    readOnly: (session.flags & TransmissionFlag.READ_ONLY) !== 0,
    structured: session.structured,
    baseAllocation: session.baseAllocation,
  };
  try {
    for (;;) {
      const header = await reader.read(REQUEST_HEADER_BYTES);
      const magic = header.readUInt32BE(0);
      if (magic !== REQUEST_MAGIC) throw new ProtocolError(`bad request magic 0x${magic.toString(16)}`);
      const req = parseRequest(header);
      if (req.type === Command.DISC) return;

      const cost = payloadBytes(req);
      await budget.acquire(cost);
      let payload: Buffer | undefined;
      try {
        if (req.type === Command.WRITE) {
          // An oversized write is refused, but its payload must still be consumed to stay in sync.
          if (req.length > cost) await reader.skip(req.length);
          else payload = await reader.read(req.length);
        }
      } catch (err) {
        budget.release(cost);
        throw err;
      }
      const p = serve(ctx, out, session, exp, req, payload)
        .catch((err) => ctx.log('error', 'nbd request failed unexpectedly', { error: errorMessage(err) }))
        .finally(() => {
          budget.release(cost);
          inflight.delete(p);
        });
      inflight.add(p);
    }
  } catch (err) {
    // A peer that breaks the protocol is dropped now (hard disconnect), not after its
    // in-flight requests; their device calls still settle below before we return.
    if (err instanceof ProtocolError) ctx.socket.destroy();
    throw err;
  } finally {
    budget.close(new Error('transmission ended'));
    // serve() never rejects; wait so no device call outlives the connection.
    await Promise.all([...inflight]);
  }
}

/** Runs one request and sends its reply; resolves once the reply has left for the kernel. */
async function serve(
  ctx: TransmissionContext,
  out: ReplyWriter,
  session: Session,
  exp: ExportView,
  req: Request,
  payload: Buffer | undefined,
): Promise<void> {
  const refusal = validate(req, exp);
  if (refusal) {
    ctx.log('debug', 'nbd request refused', { type: req.type, offset: req.offset, length: req.length, ...refusal });
    return sendError(out, session, req, refusal.errno, refusal.message);
  }
  const { device } = session;
  const fua = (req.flags & CommandFlag.FUA) !== 0;
  try {
    switch (req.type) {
      case Command.READ: {
        const data = await device.read(req.offset, req.length);
        if (data.length !== req.length) throw new Error(`device returned ${data.length} of ${req.length} bytes`);
        return session.structured
          ? out.send([offsetDataHeader(req.handle, req.offset, data.length, true), data])
          : out.send([simpleReply(req.handle, 0), data]);
      }
      case Command.WRITE:
        await device.write(req.offset, payload!, { fua });
        break;
      case Command.FLUSH:
        await device.flush();
        break;
      case Command.TRIM:
        await device.trim(req.offset, req.length, { fua });
        break;
      case Command.WRITE_ZEROES:
        await device.writeZeroes(req.offset, req.length, {
          fua,
          noHole: (req.flags & CommandFlag.NO_HOLE) !== 0,
        });
        break;
      case Command.BLOCK_STATUS: {
        const reqOne = (req.flags & CommandFlag.REQ_ONE) !== 0;
        const extents = await allocationExtents(device, req.offset, req.length, reqOne);
        return out.send([blockStatusChunk(req.handle, BASE_ALLOCATION_ID, extents, true)]);
      }
    }
    // A simple reply is allowed for payload-free success even with structured replies.
    return out.send([simpleReply(req.handle, 0)]);
  } catch (err) {
    const errno = errnoFor(err, direction(req.type));
    ctx.log(errno === Errno.EIO ? 'warn' : 'debug', 'nbd device error', {
      export: session.name,
      type: req.type,
      offset: req.offset,
      length: req.length,
      errno,
      error: errorMessage(err),
    });
    return sendError(out, session, req, errno, errorMessage(err));
  }
}

function sendError(out: ReplyWriter, session: Session, req: Request, errno: number, message: string): Promise<void> {
  // Structured errors carry a message for humans; a simple READ error reply has no payload.
  return out.send([session.structured ? errorChunk(req.handle, errno, message) : simpleReply(req.handle, errno)]);
}

/**
 * Writes each reply's buffers back to back (synchronously, so replies never interleave).
 * send() resolves when the socket has handed the bytes to the kernel, or when the socket
 * closes: that is when a READ's buffer stops counting against the connection's budget.
 */
class ReplyWriter {
  private readonly pending = new Set<() => void>();

  constructor(private readonly socket: Socket) {
    socket.once('close', () => {
      for (const done of this.pending) done();
    });
  }

  send(bufs: Buffer[]): Promise<void> {
    const { socket } = this;
    if (socket.destroyed || !socket.writable) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.pending.delete(done);
        resolve();
      };
      this.pending.add(done);
      socket.cork();
      bufs.forEach((b, i) => (i === bufs.length - 1 ? socket.write(b, done) : socket.write(b)));
      socket.uncork();
    });
  }
}
