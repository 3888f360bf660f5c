/**
 * The EBS direct APIs on `/snapshots…` (rest-json, SigV4 for the service `ebs`), on the same port
 * and snapshots as the EC2 API: authenticate, decode by the botocore model, run the direct-API
 * service, encode. Errors are JSON `{"Message", "Reason"}` with `x-amzn-ErrorType`, which is
 * where the SDKs read the exception's name.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toEbsError } from '../protocol/ebs/error-map.js';
import { EbsProtocolError } from '../protocol/ebs/protocol-errors.js';
import { decodeEbsRequest, encodeEbsResponse, type EbsOperation } from '../protocol/ebs/rest-json.js';
import type { CallerContext, Services, Simulator } from '../simulator.js';
import type { Authenticator } from './auth.js';

export interface EbsDirectPluginOptions {
  sim: Simulator;
  auth: Authenticator;
}

/** A block (512 KiB) with room to spare; StartSnapshot's JSON is far smaller. */
const BODY_LIMIT = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

type Run = (services: Services, ctx: CallerContext, input: never) => Promise<Record<string, unknown>>;

/** Each operation's service call: the model names the input members, the service takes them as they are. */
const OPERATIONS: Record<EbsOperation, { method: 'GET' | 'POST' | 'PUT'; url: string; run: Run }> = {
  StartSnapshot: { method: 'POST', url: '/snapshots', run: (sv, ctx, input) => sv.direct.start(ctx, input) as never },
  PutSnapshotBlock: { method: 'PUT', url: '/snapshots/:snapshotId/blocks/:blockIndex', run: (sv, ctx, input) => sv.direct.putBlock(ctx, input) as never },
  CompleteSnapshot: { method: 'POST', url: '/snapshots/completion/:snapshotId', run: (sv, ctx, input) => sv.direct.complete(ctx, input) as never },
  GetSnapshotBlock: { method: 'GET', url: '/snapshots/:snapshotId/blocks/:blockIndex', run: (sv, ctx, input) => sv.direct.getBlock(ctx, input) as never },
  ListSnapshotBlocks: { method: 'GET', url: '/snapshots/:snapshotId/blocks', run: (sv, ctx, input) => sv.direct.listBlocks(ctx, input) as never },
  ListChangedBlocks: { method: 'GET', url: '/snapshots/:secondSnapshotId/changedblocks', run: (sv, ctx, input) => sv.direct.listChanged(ctx, input) as never },
};

export async function ebsDirectPlugin(app: FastifyInstance, opts: EbsDirectPluginOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request: FastifyRequest, payload: AsyncIterable<Buffer>) => readBody(payload, request.headers['content-length']));

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const e = err instanceof EbsProtocolError ? err : new EbsProtocolError('SerializationException', `The request could not be read: ${err.message}`);
    return sendError(request, reply, e);
  });

  // What is under /snapshots but none of the six: the JSON services' answer, not the server's 404.
  const unknown = async (request: FastifyRequest, reply: FastifyReply) =>
    sendError(request, reply, new EbsProtocolError('UnknownOperationException', `No EBS direct API operation is ${request.method} ${request.url.split('?')[0]}.`));
  app.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: '/snapshots', handler: unknown });
  app.all('/snapshots/*', unknown);

  for (const [op, route] of Object.entries(OPERATIONS) as Array<[EbsOperation, (typeof OPERATIONS)[EbsOperation]]>) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => {
        try {
          const caller = authenticate(opts.auth, request);
          const input = decodeEbsRequest(op, {
            params: request.params as Record<string, string>,
            query: request.query as Record<string, string>,
            headers: request.headers,
            body: Buffer.isBuffer(request.body) ? request.body : undefined,
          });
          const output = await route.run(opts.sim.services, { accountId: caller.accountId, region: caller.region }, input as never);
          const res = encodeEbsResponse(op, output);
          return reply.code(res.status).headers({ ...res.headers, 'x-amzn-requestid': randomUUID() }).send(res.body);
        } catch (err) {
          return sendError(request, reply, err);
        }
      },
    });
  }
}

const tooLarge = () => new EbsProtocolError('ValidationException', `The request body is over ${BODY_LIMIT} bytes; a block is 524288.`, 'INVALID_PARAMETER_VALUE');

/**
 * The body, read once into memory of its own size when its length is declared (a block always
 * is): Fastify's buffer parser would concatenate the chunks into one more copy. Not shared
 * memory, though the fs store's threads would write that without a copy: a fresh
 * SharedArrayBuffer per block stays resident until the thread that wrote it collects garbage,
 * which took the direct preset's 64 uploaders to 664-841 MiB (fs-io-threads.ts).
 */
async function readBody(payload: AsyncIterable<Buffer>, declared: string | undefined): Promise<Buffer> {
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > BODY_LIMIT) throw tooLarge();
  if (length === undefined) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      size += chunk.length;
      if (size > BODY_LIMIT) throw tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }
  const body = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for await (const chunk of payload) {
    if (at + chunk.length > length) throw new EbsProtocolError('SerializationException', `The body is longer than its Content-Length ${length}.`);
    chunk.copy(body, at);
    at += chunk.length;
  }
  if (at !== length) throw new EbsProtocolError('SerializationException', `The body ended after ${at} of its ${length} bytes.`);
  return body;
}

/**
 * The caller, from a signature over the headers (PutSnapshotBlock's body is UNSIGNED-PAYLOAD).
 * Under sigv4 the credential must be scoped to `ebs`, as AWS requires.
 */
function authenticate(auth: Authenticator, request: FastifyRequest) {
  const url = request.raw.url ?? '/';
  const q = url.indexOf('?');
  const body = Buffer.isBuffer(request.body) ? request.body : EMPTY;
  const caller = auth.authenticate(
    { method: request.method, path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: request.headers, body },
    { allowUnsignedPayload: true },
  );
  if (auth.mode === 'sigv4' && caller.service !== 'ebs') {
    throw new EbsProtocolError('InvalidSignatureException', `Credential should be scoped to correct service: 'ebs', not '${caller.service ?? ''}'.`);
  }
  return caller;
}

function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = toEbsError(err);
  if (e.internal) request.log.error({ err }, 'EBS direct API request failed');
  return reply
    .code(e.httpStatus)
    .headers({ 'x-amzn-errortype': e.exception, 'x-amzn-requestid': randomUUID(), 'content-type': 'application/json' })
    .send(JSON.stringify({ Message: e.message, ...(e.reason !== undefined ? { Reason: e.reason } : {}) }));
}
