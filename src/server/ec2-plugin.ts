/**
 * The EC2 Query API on `POST /` (form body) and `GET /?Action=…` (query string): authenticate,
 * decode, run the action's handler, encode. Every answer, errors and 500s included, is EC2 XML
 * with the request id in the body and in `x-amzn-requestid` (botocore reads one, JS v3 the other).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CatalogError, dryRunOperation } from '../service/service-errors.js';
import { EC2_HANDLERS, type Handler } from '../protocol/ec2/actions/index.js';
import { toEc2Error } from '../protocol/ec2/error-map.js';
import {
  decodeEc2Request, Ec2ProtocolError, EC2_XML_CONTENT_TYPE, encodeError, encodeResponse, type Ec2Action, type Ec2Input, type Ec2Output,
} from '../protocol/ec2/index.js';
import type { CallerContext, Services, Simulator } from '../simulator.js';
import type { Authenticator } from './auth.js';
import { labelRequest } from './request-times.js';

export interface Ec2PluginOptions {
  sim: Simulator;
  auth: Authenticator;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
}

const EMPTY = Buffer.alloc(0);

export async function ec2Plugin(app: FastifyInstance, opts: Ec2PluginOptions): Promise<void> {
  // Any content type: the SDKs send form-urlencoded, but a bare POST with a form body is still EC2.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimit }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const e = toEc2Error(transportError(err, request.headers['content-length'], opts.bodyLimit));
    if (e.internal) request.log.error({ err }, 'EC2 request failed before its handler');
    return sendError(reply, newRequestId(reply), e.code, e.message, e.httpStatus);
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const requestId = newRequestId(reply);
    try {
      const url = request.raw.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const query = q < 0 ? '' : url.slice(q + 1);
      const body = Buffer.isBuffer(request.body) ? request.body : EMPTY;
      const caller = opts.auth.authenticate({ method: request.method, path, query, headers: request.headers, body });
      const req = decodeEc2Request(request.method === 'GET' ? query : body.toString('utf8'));
      labelRequest(request, req.action);
      const dryRun = (req.input as { DryRun?: boolean }).DryRun === true;
      const xml = await run(opts.sim.services, { ...caller, dryRun }, req.action, req.input, requestId);
      reply.code(200).type(EC2_XML_CONTENT_TYPE).send(xml);
    } catch (err) {
      const e = toEc2Error(err);
      if (e.internal) request.log.error({ err, requestId }, 'internal error');
      sendError(reply, requestId, e.code, e.message, e.httpStatus);
    }
  };

  app.post('/', handle);
  app.get('/', handle);
}

async function run<A extends Ec2Action>(services: Services, ctx: CallerContext, action: A, input: Ec2Input[A], requestId: string): Promise<string> {
  const handler = EC2_HANDLERS[action] as Handler<A> | undefined;
  if (!handler) throw new CatalogError('UNSUPPORTED_OPERATION', `ebs-sim does not implement ${action} yet.`);
  const output: Ec2Output[A] = await handler(services, ctx, input);
  // Mutations stop before changing anything; read-only actions end here.
  if (ctx.dryRun === true) throw dryRunOperation();
  return encodeResponse(action, output, requestId);
}

/** What fastify raises before our handler, as the EC2 protocol's own errors (anything else is a 500). */
function transportError(err: Error & { code?: string; statusCode?: number }, size: string | undefined, bodyLimit: number): unknown {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new Ec2ProtocolError('RequestEntityTooLarge', `The request body${size ? ` (${size} bytes)` : ''} exceeds the limit of ${bodyLimit} bytes.`);
  }
  // A bad Content-Length, a broken stream: the client's fault, with fastify's status.
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new Ec2ProtocolError('InvalidRequest', err.message, err.statusCode);
  return err;
}

function newRequestId(reply: FastifyReply): string {
  const existing = reply.getHeader('x-amzn-requestid');
  if (typeof existing === 'string') return existing;
  const id = randomUUID();
  reply.header('x-amzn-requestid', id);
  return id;
}

function sendError(reply: FastifyReply, requestId: string, code: string, message: string, status: number): FastifyReply {
  return reply.code(status).type(EC2_XML_CONTENT_TYPE).header('x-amzn-requestid', requestId).send(encodeError(code, message, requestId));
}
