/**
 * Retry with exponential backoff for object-store calls, over a time budget: an outage of a
 * minute or two (a restarting S3 endpoint, a paused container) is ridden out, and a store that
 * stops answering is noticed, because every attempt has a timeout. Only then does a copy fail.
 */
import { ObjectStoreBaseError } from '../object-store/errors.js';

export interface RetryPolicy {
  /** Attempts at most, the first included (Infinity: only the budget limits them). */
  attempts: number;
  /** How long one call may keep retrying, from its first failure. */
  budgetMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** One attempt that takes longer than this counts as failed (and is retried). */
  attemptTimeoutMs: number;
}

/** docs/server.md documents these ("Object-store outages"). */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: Infinity,
  budgetMs: 5 * 60_000,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  attemptTimeoutMs: 60_000,
};

/** The policy `--store-retry-budget` and `--store-timeout` (seconds) choose; the defaults for what they leave out. */
export function retryPolicyFrom(budgetSeconds: number | undefined, attemptTimeoutSeconds: number | undefined): Partial<RetryPolicy> {
  return {
    ...(budgetSeconds !== undefined ? { budgetMs: budgetSeconds * 1000 } : {}),
    ...(attemptTimeoutSeconds !== undefined ? { attemptTimeoutMs: attemptTimeoutSeconds * 1000 } : {}),
  };
}

export class RetriesExhaustedError extends Error {
  readonly code = 'RETRIES_EXHAUSTED';
}

export class StoreTimeoutError extends Error {
  readonly code = 'OBJECT_STORE_TIMEOUT';
}

/** A failed attempt that will be retried: what it was, why, and when the next one starts. */
export interface RetryNotice {
  what: string;
  error: unknown;
  attempt: number;
  elapsedMs: number;
  budgetMs: number;
  nextDelayMs: number;
}

export interface RetryHooks {
  /** Called before each wait. */
  retrying?(notice: RetryNotice): void;
  /** Called when a call succeeds after at least one failed attempt. */
  recovered?(what: string): void;
  /**
   * Attempts given up on by their timeout may still be running (a generic store cannot be
   * cancelled). Each is added here, so a caller whose ordering matters (a delete, then a
   * re-upload of the same key) can wait for them to settle.
   */
  abandoned?: Set<Promise<unknown>>;
}

/**
 * Only a store failure (I/O, network, 5xx) or a timeout may pass. Not-found, bad keys, a closed
 * store, and anything that is not the store's (a bug) fail at once.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof StoreTimeoutError) return true;
  return err instanceof ObjectStoreBaseError && err.code === 'OBJECT_STORE_FAILURE';
}

export async function withRetry<T>(
  what: string,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  let delay = policy.baseDelayMs;
  let firstFailure: number | undefined;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      const result = await withTimeout(what, policy.attemptTimeoutMs, fn, hooks.abandoned);
      if (firstFailure !== undefined) hooks.recovered?.(what);
      return result;
    } catch (err) {
      if (!isRetryable(err) || signal?.aborted) throw err;
      const now = Date.now();
      firstFailure ??= now;
      const elapsedMs = now - firstFailure;
      const nextDelayMs = Math.min(delay, Math.max(0, policy.budgetMs - elapsedMs));
      if (attempt >= policy.attempts || elapsedMs >= policy.budgetMs) {
        const why = errorText(err);
        const over = attempt >= policy.attempts ? '' : ` over ${formatSeconds(elapsedMs)} (retry budget ${formatSeconds(policy.budgetMs)})`;
        throw new RetriesExhaustedError(`${what} failed after ${attempt} attempts${over}: ${why}`, { cause: err });
      }
      hooks.retrying?.({ what, error: err, attempt, elapsedMs, budgetMs: policy.budgetMs, nextDelayMs });
      await sleep(nextDelayMs, signal);
      delay = Math.min(policy.maxDelayMs, delay * 2);
    }
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

async function withTimeout<T>(what: string, ms: number, fn: () => Promise<T>, abandoned?: Set<Promise<unknown>>): Promise<T> {
  if (!Number.isFinite(ms)) return fn();
  const attempt = fn();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(`${what} got no answer within ${formatSeconds(ms)}`)), ms);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (err) {
    if (err instanceof StoreTimeoutError && abandoned) {
      const settled = attempt.then(() => undefined, () => undefined);
      abandoned.add(settled);
      void settled.then(() => abandoned.delete(settled));
    } else if (err instanceof StoreTimeoutError) attempt.catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
