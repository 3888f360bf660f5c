/** `GET /_ebs-sim/health` (200 once ready) and, with --allow-reset, `POST /_ebs-sim/reset` (wipes all state). */
import type { FastifyInstance } from 'fastify';
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
  app.post('/_ebs-sim/reset', async (_request, reply) => {
    await opts.sim.reset();
    return reply.code(200).send({ status: 'reset' });
  });
}
