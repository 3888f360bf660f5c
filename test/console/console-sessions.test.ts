/**
 * Console sessions end: one left unused for 12 hours, and past 10,000 the least recently used
 * (every sign-in makes one). Wall time, given here as a fake clock.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { expect, it } from 'vitest';
import { ConsoleSessions, SESSION_COOKIE } from '../../src/server/console-sessions.js';

const KEY = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', accountId: '111111111111' };
const HOUR = 3600_000;

function sessionsAt(clock: { t: number }, limits?: { idleMs: number; max: number }) {
  const sessions = new ConsoleSessions('sigv4', '000000000000', new Map([[KEY.accessKeyId, KEY]]), () => clock.t, limits);
  const signIn = (): FastifyRequest => {
    let cookie = '';
    const reply = { header: (_name: string, value: string) => (cookie = value.split(';')[0]!) } as unknown as FastifyReply;
    sessions.signIn(reply, KEY.accessKeyId, KEY.secretAccessKey);
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    return { headers: { cookie } } as FastifyRequest;
  };
  return { sessions, signIn };
}

it('a session unused for 12 hours ends; one in use lives on', async () => {
  const clock = { t: 0 };
  const { sessions, signIn } = sessionsAt(clock);
  const used = signIn();
  const idle = signIn();
  for (let h = 1; h <= 24; h++) {
    clock.t = h * HOUR;
    expect(sessions.accountOf(used)?.accountId).toBe(KEY.accountId);
  }
  expect(sessions.accountOf(idle)).toBeUndefined();
  expect(sessions.size).toBe(1);
});

it('past the cap, the least recently used session ends', async () => {
  const clock = { t: 0 };
  const { sessions, signIn } = sessionsAt(clock, { idleMs: 12 * HOUR, max: 3 });
  const [a, b, c] = [signIn(), signIn(), signIn()];
  expect(sessions.accountOf(a)).toBeDefined(); // now b is the least recently used
  signIn();
  expect(sessions.size).toBe(3);
  expect(sessions.accountOf(b)).toBeUndefined();
  expect([sessions.accountOf(a), sessions.accountOf(c)].every((x) => x?.accountId === KEY.accountId)).toBe(true);
});

it('holds at most 10,000 sessions by default', async () => {
  const { sessions, signIn } = sessionsAt({ t: 0 });
  for (let i = 0; i < 10_050; i++) signIn();
  expect(sessions.size).toBe(10_000);
});
