/** Retry with exponential backoff, for object-store calls that may fail transiently. */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 50, maxDelayMs: 2000 };

export class RetriesExhaustedError extends Error {
  readonly code = 'RETRIES_EXHAUSTED';
}

export async function withRetry<T>(what: string, policy: RetryPolicy, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  let delay = policy.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (attempt >= policy.attempts) {
        const why = err instanceof Error ? err.message : String(err);
        throw new RetriesExhaustedError(`${what} failed after ${attempt} attempts: ${why}`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(policy.maxDelayMs, delay * 2);
    }
  }
}
