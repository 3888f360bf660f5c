/**
 * Requests Node's HTTP parser refuses (a broken chunk, a bad or doubled Content-Length, oversized
 * headers) never reach a route, and fastify would answer them with its own JSON. Answer in the
 * protocol the request was for instead: the data plane's `{code, message}` under /data/ and
 * /_ebs-sim/, EC2 XML everywhere else. The connection is closed after: the parser cannot resync.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Ec2ProtocolError, EC2_XML_CONTENT_TYPE, encodeError } from '../protocol/ec2/index.js';
import type { DataPlaneCode } from './data-plane-errors.js';

const DATA_PLANE_CODE: DataPlaneCode = 'BAD_REQUEST';

type ParserError = Error & { code?: string; reason?: string; rawPacket?: unknown };

const REQUEST_LINE = /^[A-Z]+ (\S+) HTTP\/1\.[01]/;

export function clientErrorHandler(err: ParserError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already under way (a body that broke while we streamed it): nothing can follow it.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse & { req?: { url?: string } } })._httpMessage;
  if (inFlight?.headersSent || !socket.writable) {
    socket.destroy();
    return;
  }
  const path = inFlight?.req?.url ?? REQUEST_LINE.exec(Buffer.isBuffer(err.rawPacket) ? err.rawPacket.toString('latin1', 0, 2048) : '')?.[1] ?? '/';
  const [status, reason] = statusOf(err);
  const message = `The request could not be parsed as HTTP/1.1 (${err.code ?? 'parse error'}): ${reason}`;
  const dataPlane = path.startsWith('/data/') || path.startsWith('/_ebs-sim/');
  const requestId = randomUUID();
  const ec2 = new Ec2ProtocolError('InvalidRequest', message, status);
  const body = dataPlane ? JSON.stringify({ code: DATA_PLANE_CODE, message }) : encodeError(ec2.code, ec2.message, requestId);
  const type = dataPlane ? 'application/json; charset=utf-8' : EC2_XML_CONTENT_TYPE;
  socket.end(
    `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
      `Connection: close\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      (dataPlane ? '' : `x-amzn-requestid: ${requestId}\r\n`) +
      `\r\n${body}`,
  );
  socket.destroySoon?.();
}

function statusOf(err: ParserError): [number, string] {
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, 'the request headers are too large'];
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'the request took too long to arrive'];
  // llhttp says what it tripped on: "Invalid character in chunk size", "Duplicate Content-Length"…
  return [400, err.reason ?? err.message.replace(/^Parse Error: /, '')];
}
