/**
 * The web console, on the API's port under /console/: static pages (shipped in the package's
 * console/ folder, uPlot from node_modules: no CDN), JSON endpoints that read the service layer
 * (overview, block maps, a snapshot's lineage, Compare), the console's actions, an event stream
 * of overviews, and the labs run step by step. A browser's `GET /` is sent here; SDK and EC2
 * Query requests (POST /, GET /?Action=…) never are.
 *
 *   GET  /console/api/session              who the console acts as (sigv4: POST it an access key and secret)
 *   GET  /console/api/overview?region=R    volumes, snapshots, instances
 *   GET  /console/api/events?region=R      server-sent events: `overview` on every change
 *   GET  /console/api/volumes/{id}/blockmap            GET /console/api/snapshots/{id}/blockmap
 *   GET  /console/api/snapshots/{id}                   lineage, uploaded vs shared, sizes
 *   GET  /console/api/snapshots/{id}/history           progress samples (while a console watched)
 *   GET  /console/api/compare?first=S1&second=S2       the blocks ListChangedBlocks names
 *   POST /console/api/actions/{name}                   JSON body; see console-actions.ts
 *   GET  /console/api/labs, POST /console/api/labs/{name}/runs, POST /console/api/labs/runs/{id}/step
 * Errors: JSON `{code, message}`, the data plane's table.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessKey } from '../protocol/sigv4/index.js';
import { DEFAULT_REGION, isRegionName } from '../service/state/zones.js';
import type { CallerContext, Simulator } from '../simulator.js';
import type { AuthMode } from './auth.js';
import { CONSOLE_ACTIONS } from './console-actions.js';
import { ConsoleFeed } from './console-feed.js';
import { ConsoleLabRuns } from './console-labs.js';
import { ConsoleSessions } from './console-sessions.js';
import { DataPlaneRequestError, toDataPlaneError } from './data-plane-errors.js';
import { toEbsError } from '../protocol/ebs/error-map.js';

export interface ConsolePluginOptions {
  sim: Simulator;
  auth: AuthMode;
  defaultAccountId: string;
  credentials?: ReadonlyMap<string, AccessKey>;
}

/** The package's console/ folder: two levels up from src/server/ and from dist/server/. */
const ASSETS_DIR = fileURLToPath(new URL('../../console/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
}

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else assets.set(relative(ASSETS_DIR, path).split('\\').join('/'), { body: readFileSync(path), type: TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  };
  walk(ASSETS_DIR);
  // uPlot, the chart library, from its npm package (pinned in package.json).
  const require = createRequire(import.meta.url);
  assets.set('vendor/uplot.js', { body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')), type: TYPES['.js']! });
  assets.set('vendor/uplot.css', { body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')), type: TYPES['.css']! });
  return assets;
}

/** onRequest hook for the whole app: a browser opening `/` lands on the console. */
export async function redirectBrowsersToConsole(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.method !== 'GET' || request.url !== '/' || !(request.headers.accept ?? '').includes('text/html')) return undefined;
  // An async hook that answers returns the reply, so fastify stops there.
  return reply.redirect('/console/', 302);
}

type Query = Record<string, string | undefined>;

export async function consolePlugin(app: FastifyInstance, opts: ConsolePluginOptions): Promise<void> {
  const { sim } = opts;
  const assets = loadAssets();
  const sessions = new ConsoleSessions(opts.auth, opts.defaultAccountId, opts.credentials);
  const feed = new ConsoleFeed(sim);
  const labs = new ConsoleLabRuns(() => ownEndpoint(app));
  app.addHook('preClose', async () => feed.close());

  const ctxOf = (request: FastifyRequest): CallerContext => {
    const accountId = sessions.require(request);
    const region = (request.query as Query).region ?? DEFAULT_REGION;
    if (!isRegionName(region)) throw new DataPlaneRequestError(400, 'INVALID_PARAMETER_VALUE', `Unknown region '${region}'.`);
    return { accountId, region };
  };
  /** Runs a JSON endpoint: its value is the answer, its error the data plane's JSON error. */
  const json = <T>(fn: (request: FastifyRequest, reply: FastifyReply) => Promise<T> | T) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const out = await fn(request, reply);
      return reply.code(200).header('cache-control', 'no-store').send(out);
    } catch (err) {
      return sendConsoleError(request, reply, err);
    }
  };

  // ---- pages ----
  app.get('/console', async (_request, reply) => reply.redirect('/console/', 301));
  const page = (name: string) => async (_request: FastifyRequest, reply: FastifyReply) => {
    const a = assets.get(name);
    if (!a) return reply.code(404).send({ code: 'NOT_FOUND', message: `No console asset ${name}.` });
    return reply.code(200).type(a.type).header('cache-control', 'no-cache').send(a.body);
  };
  app.get('/console/', page('index.html'));
  app.get<{ Params: { '*': string } }>('/console/*', async (request, reply) => {
    const name = request.params['*'];
    if (name.startsWith('api/')) return reply.code(404).send({ code: 'NOT_FOUND', message: `No console endpoint ${request.method} /console/${name}.` });
    return page(name)(request, reply);
  });

  // ---- session ----
  app.get('/console/api/session', json((request) => {
    const who = sessions.accountOf(request);
    return { auth: sessions.mode, signedIn: who !== undefined, accountId: who?.accountId ?? null, accessKeyId: who?.accessKeyId ?? null, defaultRegion: DEFAULT_REGION };
  }));
  app.post<{ Body: { accessKeyId?: string; secretAccessKey?: string } }>('/console/api/session', json((request, reply) => {
    const body = (request.body ?? {}) as { accessKeyId?: string; secretAccessKey?: string };
    return { accountId: sessions.signIn(reply, body.accessKeyId ?? '', body.secretAccessKey ?? '') };
  }));
  app.delete('/console/api/session', json((request, reply) => {
    sessions.signOut(request, reply);
    return { signedIn: false };
  }));

  // ---- reads ----
  app.get('/console/api/overview', json((request) => sim.services.console.overview(ctxOf(request))));
  app.get('/console/api/events', async (request, reply) => {
    let ctx: CallerContext;
    try {
      ctx = ctxOf(request);
    } catch (err) {
      return sendConsoleError(request, reply, err);
    }
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    reply.raw.write('retry: 1000\n\n');
    feed.subscribe(ctx, reply);
  });
  app.get('/console/api/volumes/:id/blockmap', json((request) =>
    sim.services.console.volumeBlockMap(ctxOf(request), param(request, 'id'), maxCells(request.query as Query))));
  app.get('/console/api/snapshots/:id/blockmap', json((request) =>
    sim.services.console.snapshotBlockMap(ctxOf(request), param(request, 'id'), maxCells(request.query as Query))));
  app.get('/console/api/snapshots/:id', json((request) => sim.services.console.snapshotDetail(ctxOf(request), param(request, 'id'))));
  app.get('/console/api/snapshots/:id/history', json((request) => ({ samples: sim.services.console.progress(ctxOf(request), param(request, 'id')) })));
  app.get('/console/api/compare', json(async (request) => {
    const q = request.query as Query;
    if (!q.first || !q.second) throw new DataPlaneRequestError(400, 'MISSING_PARAMETER', 'Compare needs first= and second= snapshot ids.');
    return compare(sim, ctxOf(request), q.first, q.second);
  }));

  // ---- actions ----
  app.post('/console/api/actions/:name', json(async (request) => {
    const action = CONSOLE_ACTIONS[param(request, 'name')];
    if (!action) throw new DataPlaneRequestError(404, 'NOT_FOUND', `No console action '${param(request, 'name')}' (actions: ${Object.keys(CONSOLE_ACTIONS).join(', ')}).`);
    const out = await action(sim.services, ctxOf(request), (request.body ?? {}) as Record<string, unknown>);
    feed.poke();
    return out;
  }));

  // ---- labs ----
  app.get('/console/api/labs', json(() => labs.list()));
  app.post('/console/api/labs/:name/runs', json((request) => {
    sessions.require(request);
    return labs.start(param(request, 'name'), sessions.credentialsOf(request));
  }));
  app.post('/console/api/labs/runs/:id/step', json(async (request) => {
    sessions.require(request);
    const out = await labs.step(param(request, 'id'));
    feed.poke();
    return out;
  }));
}

/** Where this server listens, as a client reaches it (a wildcard address through loopback): the labs' endpoint. */
function ownEndpoint(app: FastifyInstance): string {
  const { address, family, port } = app.server.address() as AddressInfo;
  if (family === 'IPv6') return `http://[${address === '::' ? '::1' : address}]:${port}`;
  return `http://${address === '0.0.0.0' ? '127.0.0.1' : address}:${port}`;
}

const param = (request: FastifyRequest, name: string): string => (request.params as Record<string, string>)[name] ?? '';

function maxCells(q: Query): number | undefined {
  if (q.maxCells === undefined) return undefined;
  const n = Number(q.maxCells);
  if (!Number.isSafeInteger(n) || n < 1 || n > 65_536) throw new DataPlaneRequestError(400, 'INVALID_PARAMETER_VALUE', 'maxCells must be an integer from 1 to 65536.');
  return n;
}

/** Every block ListChangedBlocks names for the pair, through the same service the EBS direct API calls. */
async function compare(sim: Simulator, ctx: CallerContext, first: string, second: string) {
  const changed: number[] = [];
  let next: string | undefined;
  let blockSize = 0;
  do {
    const page = await sim.services.direct.listChanged(ctx, { FirstSnapshotId: first, SecondSnapshotId: second, MaxResults: 10_000, ...(next ? { NextToken: next } : {}) });
    for (const b of page.ChangedBlocks) changed.push(b.BlockIndex);
    blockSize = page.BlockSize;
    next = page.NextToken;
  } while (next);
  return { first, second, blockSize, changedBlocks: changed };
}

/** The data plane's JSON errors; the EBS direct APIs' own (Compare) keep their exception name. */
function sendConsoleError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = toDataPlaneError(err);
  if (e.internal) {
    const ebs = toEbsError(err);
    if (!ebs.internal) return reply.code(ebs.httpStatus).send({ code: ebs.exception, message: ebs.message });
    request.log.error({ err }, 'console request failed');
  }
  return reply.code(e.status).type('application/json; charset=utf-8').send(e.body);
}
