/**
 * Faults for a running server, as a test states them (the control endpoint's JSON), turned into
 * the fault store's scripted faults. Every field is optional; `operations` defaults to all.
 *
 *   { "operations": ["put", "get"], "failNext": 5, "errorRate": 0.1, "seed": 7,
 *     "latencyMs": 200, "hang": false, "keyPrefix": "blocks/" }
 */
import type { FaultCounters, FaultSpec, FaultStore, StoreOp } from './fault-store.js';

export const STORE_OPS: readonly StoreOp[] = ['put', 'get', 'head', 'delete', 'list'];

export interface FaultPlan {
  operations?: StoreOp[];
  /** The next N matching calls fail. */
  failNext?: number;
  /** Then each matching call fails with this probability, drawn from a generator seeded with `seed`. */
  errorRate?: number;
  seed?: number;
  /** Every matching call waits this long first. */
  latencyMs?: number;
  /** Every matching call waits until the faults are cleared. */
  hang?: boolean;
  keyPrefix?: string;
}

export type FaultKind = 'failNext' | 'errorRate' | 'latency' | 'hang';

export class InvalidFaultPlanError extends Error {
  readonly code = 'INVALID_FAULT_PLAN';
}

const FIELDS = new Set(['operations', 'failNext', 'errorRate', 'seed', 'latencyMs', 'hang', 'keyPrefix']);

/** Checks a plan from JSON; throws InvalidFaultPlanError naming the first bad field. */
export function parseFaultPlan(value: unknown): FaultPlan {
  const fail = (message: string): never => {
    throw new InvalidFaultPlanError(message);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('objectStore must be an object');
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) if (!FIELDS.has(key)) fail(`unknown field objectStore.${key}; known: ${[...FIELDS].join(', ')}`);
  const plan: FaultPlan = {};
  if (v.operations !== undefined) {
    if (!Array.isArray(v.operations) || v.operations.length === 0 || !v.operations.every((o) => STORE_OPS.includes(o as StoreOp))) {
      fail(`objectStore.operations must be a non-empty list of ${STORE_OPS.join(', ')}`);
    }
    plan.operations = [...new Set(v.operations as StoreOp[])];
  }
  const integer = (name: string, min: number): number | undefined => {
    const n = v[name];
    if (n === undefined) return undefined;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) fail(`objectStore.${name} must be an integer >= ${min}`);
    return n as number;
  };
  const failNext = integer('failNext', 1);
  if (failNext !== undefined) plan.failNext = failNext;
  const latencyMs = integer('latencyMs', 0);
  if (latencyMs !== undefined) plan.latencyMs = latencyMs;
  const seed = integer('seed', 0);
  if (seed !== undefined) plan.seed = seed;
  if (v.errorRate !== undefined) {
    if (typeof v.errorRate !== 'number' || !(v.errorRate >= 0 && v.errorRate <= 1)) fail('objectStore.errorRate must be a number from 0 to 1');
    plan.errorRate = v.errorRate as number;
  }
  if (v.hang !== undefined) {
    if (typeof v.hang !== 'boolean') fail('objectStore.hang must be true or false');
    plan.hang = v.hang as boolean;
  }
  if (v.keyPrefix !== undefined) {
    if (typeof v.keyPrefix !== 'string') fail('objectStore.keyPrefix must be a string');
    plan.keyPrefix = v.keyPrefix as string;
  }
  return plan;
}

/** The fault store's faults for a plan, each with the kind it counts as. */
export function faultSpecs(plan: FaultPlan): Array<{ kind: FaultKind; spec: FaultSpec }> {
  const base = { op: plan.operations ?? STORE_OPS, ...(plan.keyPrefix !== undefined ? { keyPrefix: plan.keyPrefix } : {}) };
  const out: Array<{ kind: FaultKind; spec: FaultSpec }> = [];
  if (plan.latencyMs) out.push({ kind: 'latency', spec: { ...base, always: true, delayMs: plan.latencyMs, fail: false } });
  if (plan.hang) out.push({ kind: 'hang', spec: { ...base, always: true, hang: true } });
  if (plan.failNext) out.push({ kind: 'failNext', spec: { ...base, times: plan.failNext } });
  if (plan.errorRate) {
    // After the failNext calls, so that "fail the next 5, then 10%" reads as it says.
    const random = mulberry32(plan.seed ?? 1);
    out.push({ kind: 'errorRate', spec: { ...base, nth: (plan.failNext ?? 0) + 1, always: true, probability: plan.errorRate, random } });
  }
  return out;
}

/** What was injected so far, by kind: calls failed, delayed and hung. */
export function injectedCounts(kinds: FaultKind[], counters: FaultCounters[]): { matched: number; failed: number; delayed: number; hung: number } {
  const out = { matched: 0, failed: 0, delayed: 0, hung: 0 };
  counters.forEach((c, i) => {
    out.matched = Math.max(out.matched, c.matched);
    const kind = kinds[i];
    if (kind === 'latency') out.delayed += c.fired;
    else if (kind === 'hang') out.hung += c.fired;
    else out.failed += c.fired;
  });
  return out;
}

/** The object-store faults in force and what they injected so far. */
export interface FaultReport {
  objectStore: FaultPlan | null;
  injected: { matched: number; failed: number; delayed: number; hung: number };
}

/** The plan in force on a running server's fault store (--allow-control), and its report. */
export class FaultControls {
  private plan: FaultPlan | null = null;
  private kinds: FaultKind[] = [];

  constructor(readonly store: FaultStore) {}

  /** Replaces the faults in force (undefined clears them; calls they hung go on). */
  set(plan: FaultPlan | undefined): FaultReport {
    this.store.clearFaults();
    this.plan = plan ?? null;
    this.kinds = [];
    for (const { kind, spec } of plan ? faultSpecs(plan) : []) {
      this.store.addFault(spec);
      this.kinds.push(kind);
    }
    return this.report();
  }

  report(): FaultReport {
    return { objectStore: this.plan, injected: injectedCounts(this.kinds, this.store.counters()) };
  }
}

/** A small seeded generator (mulberry32): the same seed fails the same calls. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
