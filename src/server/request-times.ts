/**
 * How long the server took over each kind of call, from its headers' arrival to the last byte of
 * its answer: an EC2 call by its Action, any other route by method and route. What a client
 * measures is this plus the network and its own event loop; `GET /_ebs-sim/stats` shows both sides
 * apart (the soak's load phase prints them beside each other).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Histogram, type HistogramSummary } from '../core/histogram.js';

const labels = new WeakMap<FastifyRequest, string>();

/** Names the call for the timing (the EC2 plugin gives its Action). */
export function labelRequest(request: FastifyRequest, label: string): void {
  labels.set(request, label);
}

export class RequestTimes {
  private readonly byCall = new Map<string, Histogram>();

  /** Times every answer the app sends from now on. */
  attach(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const label = labels.get(request) ?? `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
      let h = this.byCall.get(label);
      if (!h) this.byCall.set(label, (h = new Histogram()));
      h.add(reply.elapsedTime);
    });
  }

  summary(): Record<string, HistogramSummary> {
    return Object.fromEntries([...this.byCall].map(([label, h]) => [label, h.summary()]));
  }
}
