/**
 * `GET /_ebs-sim/health` (200 once ready) and, with --allow-reset, `POST /_ebs-sim/reset` (wipes
 * all state), also at moto's `POST /moto-api/reset` so that suites written for moto's server mode
 * reset ebs-sim unchanged. A reset takes any body of any content type, or none: harnesses send
 * an empty form (Python's urllib with data=b"").
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Simulator } from '../simulator.js';

export interface AdminOptions {
  sim: Simulator;
  allowReset: boolean;
}

export async function adminPlugin(app: FastifyInstance, opts: AdminOptions): Promise<void> {
  app.get('/_ebs-sim/health', async (_request, reply) =>
    opts.sim.ready ? reply.code(200).send({ status: 'ok' }) : reply.code(503).send({ status: 'unavailable' }),
  );
  if (!opts.allowReset) return;
  // Any content type is read and ignored (this plugin's scope only): no 415 for a reset.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, _body, done) => done(null, undefined));
  const reset = async (_request: unknown, reply: FastifyReply) => {
    await opts.sim.reset();
    return reply.code(200).send({ status: 'reset' });
  };
  app.post('/_ebs-sim/reset', reset);
  app.post('/moto-api/reset', reset);
}
