/**
 * The HTTP server: one fastify app for the EC2 Query API, the data plane (volumes, and instance
 * devices through their page caches) and the admin routes.
 * buildApp() never listens (fastify's testing pattern): the CLI calls listen(), tests use port 0.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { AccessKey } from '../protocol/sigv4/index.js';
import type { Simulator } from '../simulator.js';
import { adminPlugin } from './admin-plugin.js';
import { Authenticator, type AuthMode } from './auth.js';
import { clientErrorHandler } from './client-errors.js';
import { consolePlugin, redirectBrowsersToConsole } from './console-plugin.js';
import { controlPlugin } from './control-plugin.js';
import { dataPlanePlugin } from './data-plane-plugin.js';
import { ebsDirectPlugin } from './ebs-direct-plugin.js';
import { ec2Plugin } from './ec2-plugin.js';
import { guestPlanePlugin } from './guest-plane-plugin.js';
import { RequestTimes } from './request-times.js';

export { DEFAULT_ACCOUNT_ID } from './defaults.js';
import { DEFAULT_ACCOUNT_ID } from './defaults.js';
/** Far above any real EC2 request (a DescribeSnapshots naming 1,000 ids is ~30 KB). */
export const DEFAULT_EC2_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_MAX_TRANSFER_BYTES = 1024 * 1024 * 1024;

export interface AppOptions {
  auth?: AuthMode;
  /** Access key → secret and account (see auth.ts for the file format); required for sigv4. */
  credentials?: ReadonlyMap<string, AccessKey>;
  /** The account of every request under `--auth none`. */
  defaultAccountId?: string;
  allowReset?: boolean;
  /** Test controls (faults); the simulator must have been opened with faultInjection. Implies allowReset. */
  allowControl?: boolean;
  ec2BodyLimit?: number;
  /** Largest data-plane PUT body or GET length. */
  maxTransferBytes?: number;
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(sim: Simulator, options: AppOptions = {}): Promise<FastifyInstance> {
  const auth = new Authenticator({
    mode: options.auth ?? 'none',
    defaultAccountId: options.defaultAccountId ?? DEFAULT_ACCOUNT_ID,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const app = Fastify({
    logger: options.logger ?? false,
    // Each plugin sets its own limit; this one only bounds what no plugin claims.
    bodyLimit: options.ec2BodyLimit ?? DEFAULT_EC2_BODY_LIMIT,
    return503OnClosing: true,
    clientErrorHandler,
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: 'NOT_FOUND', message: `No route for ${request.method} ${request.url.split('?')[0]}. EC2 requests go to POST /.` }),
  );
  const requestTimes = new RequestTimes();
  requestTimes.attach(app);
  // A browser opening / gets the web console; EC2 requests (POST /, GET /?Action=…) never match.
  app.addHook('onRequest', redirectBrowsersToConsole);
  await app.register(consolePlugin, {
    sim, auth: options.auth ?? 'none', defaultAccountId: options.defaultAccountId ?? DEFAULT_ACCOUNT_ID,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  await app.register(ec2Plugin, { sim, auth, bodyLimit: options.ec2BodyLimit ?? DEFAULT_EC2_BODY_LIMIT });
  await app.register(ebsDirectPlugin, { sim, auth });
  await app.register(dataPlanePlugin, { sim, auth, maxTransferBytes: options.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES });
  await app.register(guestPlanePlugin, { sim, auth, maxTransferBytes: options.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES });
  await app.register(adminPlugin, { sim, allowReset: options.allowReset === true || options.allowControl === true });
  if (options.allowControl) await app.register(controlPlugin, { sim, requestTimes });
  return app;
}
