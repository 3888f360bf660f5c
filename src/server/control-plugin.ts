/**
 * Test controls, only with --allow-control: `PUT /_ebs-sim/faults` makes the object store
 * misbehave (replacing any faults in force), `GET` shows the faults with what they injected,
 * `DELETE` clears them. `POST /_ebs-sim/clock` `{"advanceSeconds": N}` moves simulated time
 * forward (`GET` shows it). `GET /_ebs-sim/stats` shows where time goes: how long calls waited for
 * each lock and held it, how long the server took over each kind of call, and the process's CPU time and event-loop utilization since it started.
 * JSON in and out; errors are `{ code, message }` like the data plane's.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { InvalidFaultPlanError, parseFaultPlan, type Simulator } from '../simulator.js';
import type { RequestTimes } from './request-times.js';

export interface ControlOptions {
  sim: Simulator;
  requestTimes: RequestTimes;
}

const FAULTS = '/_ebs-sim/faults';
const CLOCK = '/_ebs-sim/clock';

export async function controlPlugin(app: FastifyInstance, opts: ControlOptions): Promise<void> {
  const { sim } = opts;
  const badRequest = (reply: FastifyReply, message: string) => reply.code(400).send({ code: 'BAD_REQUEST', message });

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  app.addHook('onClose', async () => loopDelay.disable());
  app.get('/_ebs-sim/stats', async () => {
    const cpu = process.cpuUsage();
    return {
      locks: sim.controls.lockTimes(),
      // Server-side time per call (headers in to answer out), by EC2 Action or route.
      requests: opts.requestTimes.summary(),
      // How long each block of the latest snapshot copies took to become stored, by snapshot.
      copies: { blockCopyTimes: sim.controls.copyBlockTimes() },
      process: {
        uptimeSeconds: process.uptime(),
        cpuUserSeconds: cpu.user / 1e6,
        cpuSystemSeconds: cpu.system / 1e6,
        eventLoopUtilization: performance.eventLoopUtilization().utilization,
        // How late timers fire: the event loop's stalls, which every call waits out.
        eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
        rssBytes: process.memoryUsage.rss(),
        // Where the resident memory is: V8's heap, and buffers outside it (chunk and body bytes).
        memory: process.memoryUsage(),
      },
    };
  });
  app.get(CLOCK, async () => ({ now: sim.controls.clockNow().toISOString() }));
  app.post(CLOCK, async (request, reply) => {
    const body = request.body as { advanceSeconds?: unknown } | null;
    const seconds = body?.advanceSeconds;
    if (typeof body !== 'object' || body === null || typeof seconds !== 'number' || !(seconds >= 0) || !Number.isFinite(seconds)) {
      return badRequest(reply, 'The body must be {"advanceSeconds": N} with N a number >= 0: the clock only moves forward.');
    }
    return { now: (await sim.controls.advanceClock(seconds)).toISOString() };
  });
  app.get(FAULTS, async () => sim.controls.objectStoreFaults());
  app.delete(FAULTS, async () => sim.controls.setObjectStoreFaults(undefined));
  app.put(FAULTS, async (request, reply) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return badRequest(reply, 'The body must be a JSON object: {"objectStore": {"failNext": 5, ...}}.');
    }
    const unknown = Object.keys(body).filter((k) => k !== 'objectStore');
    if (unknown.length > 0) return badRequest(reply, `Unknown field ${unknown[0]}: faults are given under "objectStore".`);
    const objectStore = (body as { objectStore?: unknown }).objectStore;
    try {
      return sim.controls.setObjectStoreFaults(objectStore === undefined ? undefined : parseFaultPlan(objectStore));
    } catch (err) {
      if (err instanceof InvalidFaultPlanError) return badRequest(reply, err.message);
      throw err;
    }
  });
}
