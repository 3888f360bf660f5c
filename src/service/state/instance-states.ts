/**
 * EC2's instance state machine, derived from the clock: a transitional state (pending, stopping,
 * shutting-down) is stored with the instant it settles, and everyone reads the state through
 * `instanceStateAt`, so a restart loses nothing and no timer has to flip a record.
 */
import type { InstanceMeta, InstanceStateName } from './resource-records.js';

/** `instanceState/code` as documented on InstanceState.Code. */
export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const SETTLES_INTO: Partial<Record<InstanceStateName, InstanceStateName>> = {
  pending: 'running',
  stopping: 'stopped',
  'shutting-down': 'terminated',
};

/** How long a terminated instance stays visible (EC2: about an hour). */
export const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;

export function instanceStateAt(m: InstanceMeta, now: number): InstanceStateName {
  const next = SETTLES_INTO[m.state];
  return next !== undefined && m.stateUntil !== undefined && now >= Date.parse(m.stateUntil) ? next : m.state;
}

/** The record after a state change at `now`: transitional states settle `durationMs` later. */
export function enterState(m: InstanceMeta, state: InstanceStateName, now: number, durationMs: number): InstanceMeta {
  const { stateUntil: _old, ...rest } = m;
  const transitional = SETTLES_INTO[state] !== undefined;
  return { ...rest, state, stateSince: new Date(now).toISOString(), ...(transitional ? { stateUntil: new Date(now + durationMs).toISOString() } : {}) };
}

/** Guest I/O reaches an instance that is up (or booting): not one stopping, stopped or gone. */
export function takesGuestIo(state: InstanceStateName): boolean {
  return state === 'pending' || state === 'running';
}

/** A terminated instance drops out of listings an hour after it terminated. */
export function stillVisible(m: InstanceMeta, now: number): boolean {
  if (instanceStateAt(m, now) !== 'terminated') return true;
  return now < Date.parse(m.stateUntil ?? m.stateSince) + TERMINATED_VISIBLE_MS;
}
