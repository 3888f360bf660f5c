/**
 * Who the console acts as. Under `--auth none`, the default account. Under `--auth sigv4`, the
 * page asks for an access key and its secret once; the server checks them against the
 * credentials file and answers with a session cookie (HttpOnly: the page's script never holds
 * it), so the event stream, which cannot sign, is scoped too. Sessions live in memory: one unused
 * for SESSION_IDLE_MS ends, and past MAX_SESSIONS the least recently used ends (every sign-in
 * makes one; nothing else would ever drop them).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessKey } from '../protocol/sigv4/index.js';
import type { AuthMode } from './auth.js';
import { DataPlaneRequestError } from './data-plane-errors.js';

export const SESSION_COOKIE = 'ebs_sim_console';
export const SESSION_IDLE_MS = 12 * 3600_000;
export const MAX_SESSIONS = 10_000;

interface Session {
  accountId: string;
  accessKeyId: string;
  /** Held in memory only: the labs the page runs sign their requests with it. */
  secretAccessKey: string;
  usedAt: number;
}

export class ConsoleSessions {
  /** In order of last use, oldest first (each use moves a session to the end). */
  private readonly sessions = new Map<string, Session>();

  constructor(
    readonly mode: AuthMode,
    private readonly defaultAccountId: string,
    private readonly credentials: ReadonlyMap<string, AccessKey> | undefined,
    /** Wall time: a session's idleness is the browser's, whatever the simulated clock says. */
    private readonly now: () => number = Date.now,
    private readonly limits = { idleMs: SESSION_IDLE_MS, max: MAX_SESSIONS },
  ) {}

  /** The account of the request's session, or undefined (sigv4, not signed in). */
  accountOf(request: FastifyRequest): { accountId: string; accessKeyId?: string } | undefined {
    if (this.mode === 'none') return { accountId: this.defaultAccountId };
    const s = this.session(request);
    return s ? { accountId: s.accountId, accessKeyId: s.accessKeyId } : undefined;
  }

  /** The session's access key and secret (sigv4), for the labs it runs; undefined under --auth none. */
  credentialsOf(request: FastifyRequest): { accessKeyId: string; secretAccessKey: string } | undefined {
    if (this.mode === 'none') return undefined;
    const s = this.session(request);
    return s ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } : undefined;
  }

  /** How many sessions are held (after dropping the idle ones). */
  get size(): number {
    this.dropIdle();
    return this.sessions.size;
  }

  /** The request's live session, now its most recently used; an idle one ends. */
  private session(request: FastifyRequest): Session | undefined {
    const token = cookie(request.headers.cookie, SESSION_COOKIE);
    const s = token ? this.sessions.get(token) : undefined;
    if (!token || !s) return undefined;
    this.sessions.delete(token);
    const now = this.now();
    if (now - s.usedAt > this.limits.idleMs) return undefined;
    s.usedAt = now;
    this.sessions.set(token, s);
    return s;
  }

  private dropIdle(): void {
    const now = this.now();
    for (const [token, s] of this.sessions) {
      if (now - s.usedAt <= this.limits.idleMs) break; // the rest were used later
      this.sessions.delete(token);
    }
  }

  /** The account, or a 403 the page answers by asking for keys. */
  require(request: FastifyRequest): string {
    const who = this.accountOf(request);
    if (!who) throw new DataPlaneRequestError(403, 'UNAUTHORIZED_OPERATION', 'Sign in to the console with an access key and its secret (the server runs with --auth sigv4).');
    return who.accountId;
  }

  signIn(reply: FastifyReply, accessKeyId: string, secretAccessKey: string): string {
    const key = this.credentials?.get(accessKeyId);
    if (this.mode !== 'sigv4' || !key || !sameSecret(key.secretAccessKey, secretAccessKey)) {
      throw new DataPlaneRequestError(403, 'UNAUTHORIZED_OPERATION', 'Unknown access key, or a secret that does not match it.');
    }
    const token = randomBytes(24).toString('base64url');
    this.dropIdle();
    this.sessions.set(token, { accountId: key.accountId, accessKeyId, secretAccessKey, usedAt: this.now() });
    if (this.sessions.size > this.limits.max) this.sessions.delete(this.sessions.keys().next().value!);
    reply.header('set-cookie', `${SESSION_COOKIE}=${token}; Path=/console; HttpOnly; SameSite=Strict`);
    return key.accountId;
  }

  signOut(request: FastifyRequest, reply: FastifyReply): void {
    const token = cookie(request.headers.cookie, SESSION_COOKIE);
    if (token) this.sessions.delete(token);
    reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0`);
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
