import type { Socket } from 'node:net';
import type { ExportResolver } from './block-device.js';
import { closeQuietly, negotiate, type Session } from './handshake.js';
import { errorMessage, type NbdLog } from './log.js';
import { ConnectionClosedError, SocketReader } from './socket-reader.js';
import type { NbdTlsOptions } from './tls-psk.js';
import { transmit } from './transmission.js';

/** Per-connection memory bounds. Defaults: about 65 MiB worst case per connection. */
export interface NbdLimits {
  /** Payload bytes (WRITE data, READ replies not yet flushed) held at once. Must be >= 32 MiB. */
  maxInflightBytes: number;
  /** Requests served concurrently (bounds per-request overhead of tiny requests). */
  maxInflightRequests: number;
  /** Bytes read ahead from the socket beyond what the parser needs. */
  readAheadBytes: number;
}

export const DEFAULT_LIMITS: NbdLimits = {
  maxInflightBytes: 64 * 1024 * 1024,
  maxInflightRequests: 64,
  readAheadBytes: 1024 * 1024,
};

export interface NbdConnection {
  /** Settles (never rejects) when the socket is gone and the device, if any, is closed. */
  readonly done: Promise<void>;
  /** Stop taking requests, answer those in flight, then end the connection. */
  shutdown(): void;
  /** Drop the connection now (in-flight device calls still settle before close()). */
  destroy(): void;
}

/**
 * One client, start to end: handshake, transmission, then cleanup. The device opened for the
 * session is closed exactly once, after its last call settled, however the connection ends.
 */
export function serveConnection(
  socket: Socket,
  deps: { resolver: ExportResolver; log: NbdLog; limits: NbdLimits; tls?: NbdTlsOptions },
): NbdConnection {
  const { log, limits } = deps;
  socket.setNoDelay(true);
  const stopping = new ConnectionClosedError('server is shutting down');
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  // STARTTLS swaps the socket and reader in here; everything below goes through it.
  const channel = {
    socket,
    reader: new SocketReader(socket, limits.readAheadBytes),
    resolver: deps.resolver,
    log,
    ...(deps.tls ? { tls: deps.tls } : {}),
  };
  let stopped = false;

  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

  const run = async () => {
    let session: Session | undefined;
    try {
      session = await negotiate(channel);
      if (stopped) throw stopping; // shutdown() came during the TLS handshake
      if (session) {
        log('info', 'nbd session started', { peer, export: session.name, flags: session.flags, identity: session.client.pskIdentity });
        await transmit({ socket: channel.socket, reader: channel.reader, log, ...limits }, session);
      }
      endGracefully(channel.socket);
    } catch (err) {
      if (err === stopping) endGracefully(channel.socket);
      else {
        const level = err instanceof ConnectionClosedError ? 'debug' : 'warn';
        log(level, 'nbd connection ended', { peer, error: errorMessage(err) });
        channel.socket.destroy();
        socket.destroy();
      }
    } finally {
      if (session) await closeQuietly(session.device, log);
      log('debug', 'nbd connection closed', { peer, export: session?.name });
    }
  };
  // Done means the socket is really gone too: a client that stops reading keeps a graceful
  // end() from finishing, and server.close() must then see it and destroy the socket.
  const done = run()
    .catch(() => {}) // run() handles its own errors; only a throwing log hook gets here
    .then(() => closed);

  return {
    done,
    shutdown: () => {
      stopped = true;
      channel.reader.abort(stopping);
    },
    destroy: () => {
      channel.socket.destroy();
      socket.destroy();
    },
  };
}

/** Flush queued replies, send FIN, then release the socket without waiting for the peer. */
function endGracefully(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end(() => socket.destroy());
}
