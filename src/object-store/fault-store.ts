/**
 * Scripted faults over any store (kopia's FaultyStorage, nbdkit's error and delay filters), so a
 * test can say "the 3rd block upload fails once" and watch a snapshot go to `error` or retry.
 *
 *   new FaultStore(inner, [{ op: 'put', nth: 3 }])                  3rd put fails, once
 *   { op: 'put', nth: 3, times: 2 }                                   3rd and 4th puts fail
 *   { op: 'put', always: true }                                       every put fails
 *   { op: 'get', delayMs: 200 }                                       next get is 200 ms slower
 *   { op: 'put', keyPrefix: 'snapshots/', when: 'after' }             manifest stored, ack lost
 *   { op: ['put', 'get'], always: true, probability: 0.1, random }    a tenth of them fail (seeded)
 *   { op: 'get', always: true, hang: true }                           gets wait until the faults are cleared
 *
 * Each fault counts the calls it matches (op, and key prefix if given) from when it was added.
 * A failed call never reaches the inner store unless `when: 'after'`.
 */

import { InjectedFaultError } from './errors.js';
import type { ByteRange, FileSlice, GetOptions, ObjectInfo, ObjectStore } from './object-store.js';
import { WrappedStore } from './wrapped-store.js';

export type StoreOp = 'put' | 'get' | 'head' | 'list' | 'delete';

export interface FaultCall {
  op: StoreOp;
  /** The key, or for list the prefix. */
  key: string;
  /** 1-based count of calls this fault matched, this one included. */
  call: number;
}

export interface FaultSpec {
  /** The calls it matches: one operation or several. */
  op: StoreOp | readonly StoreOp[];
  /** First matching call affected (1-based). Default 1: the next one. */
  nth?: number;
  /** Consecutive matching calls affected. Default 1. */
  times?: number;
  /** Every matching call from `nth` on. */
  always?: boolean;
  /** Only keys starting with this; a list matches when its prefix and this one overlap. */
  keyPrefix?: string;
  /** Wait this long before the call. */
  delayMs?: number;
  /** Whether the call fails. Default: true, unless only `delayMs` is given (a slow call). */
  fail?: boolean;
  /** What to throw. Default: InjectedFaultError "injected fault: put #3 of blocks/...". */
  error?: (call: FaultCall) => Error;
  /** 'after': the call reaches the inner store, then fails (a lost acknowledgement). */
  when?: 'before' | 'after';
  /** Each affected call is hit with this probability (default 1), drawn from `random`. */
  probability?: number;
  random?: () => number;
  /** The call waits until the faults are cleared (or replaced), then goes on to the inner store. */
  hang?: boolean;
}

/** What one fault has done so far. */
export interface FaultCounters {
  spec: FaultSpec;
  /** Calls it matched (operation and prefix), and calls it hit (failed, delayed or hung). */
  matched: number;
  fired: number;
}

interface Fault {
  spec: FaultSpec;
  first: number;
  last: number; // inclusive; Infinity for `always`
  fails: boolean;
  matched: number;
  fired: number;
}

interface Firing {
  error: Error;
  after: boolean;
}

export class FaultStore extends WrappedStore {
  readonly kind = 'fault';
  #faults: Fault[] = [];
  /** Released when the faults are cleared: hung calls wait on it. */
  #unhang = released();

  constructor(inner: ObjectStore, faults: FaultSpec[] = []) {
    super(inner);
    for (const spec of faults) this.addFault(spec);
  }

  addFault(spec: FaultSpec): void {
    const first = spec.nth ?? 1;
    const times = spec.times ?? 1;
    if (!Number.isSafeInteger(first) || first < 1) throw new RangeError(`fault nth must be an integer >= 1: ${first}`);
    if (!Number.isSafeInteger(times) || times < 1) throw new RangeError(`fault times must be an integer >= 1: ${times}`);
    const p = spec.probability ?? 1;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`fault probability must be between 0 and 1: ${p}`);
    this.#faults.push({
      spec: { ...spec },
      first,
      last: spec.always ? Infinity : first + times - 1,
      fails: spec.fail ?? (spec.error !== undefined || (spec.delayMs === undefined && !spec.hang)),
      matched: 0,
      fired: 0,
    });
  }

  /** Removes every fault; calls hung by one go on. */
  clearFaults(): void {
    this.#faults = [];
    this.#unhang.release();
    this.#unhang = released();
  }

  counters(): FaultCounters[] {
    return this.#faults.map((f) => ({ spec: { ...f.spec }, matched: f.matched, fired: f.fired }));
  }

  /** Faults that have not yet affected every call they were scripted for (`always`: none yet). */
  unusedFaults(): FaultSpec[] {
    return this.#faults
      .filter((f) => f.fired < (f.last === Infinity ? 1 : f.last - f.first + 1))
      .map((f) => ({ ...f.spec }));
  }

  protected override _put(key: string, body: Buffer): Promise<void> {
    return this.#call('put', key, () => this.inner.put(key, body));
  }

  /** Scripted as a put: it is the upload. */
  protected override _putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    return this.#call('put', key, () => this.inner.putIfAbsent(key, body));
  }

  protected override _putIfAbsentFromFile(key: string, source: FileSlice): Promise<boolean> {
    return this.#call('put', key, () => this.inner.putIfAbsentFromFile(key, source));
  }

  protected override _get(key: string, range?: ByteRange): Promise<Buffer> {
    return this.#call('get', key, () => this.inner.get(key, range));
  }

  protected override _getWithSha256(key: string, options?: GetOptions): Promise<{ body: Buffer; sha256: string }> {
    return this.#call('get', key, () => this.inner.getWithSha256(key, options));
  }

  protected override _head(key: string): Promise<ObjectInfo | undefined> {
    return this.#call('head', key, () => this.inner.head(key));
  }

  protected override async *_list(prefix: string): AsyncGenerator<ObjectInfo> {
    const firing = await this.#trigger('list', prefix);
    if (firing && !firing.after) throw firing.error;
    yield* this.inner.list(prefix);
    if (firing) throw firing.error;
  }

  protected override _delete(key: string): Promise<void> {
    return this.#call('delete', key, () => this.inner.delete(key));
  }

  async #call<T>(op: StoreOp, key: string, fn: () => Promise<T>): Promise<T> {
    const firing = await this.#trigger(op, key);
    if (firing && !firing.after) throw firing.error;
    const result = await fn();
    if (firing) throw firing.error;
    return result;
  }

  /** Counts this call against every matching fault, sleeps for the firing ones, returns the failure if any. */
  async #trigger(op: StoreOp, key: string): Promise<Firing | undefined> {
    let delayMs = 0;
    let hang = false;
    let firing: Firing | undefined;
    for (const fault of this.#faults) {
      if (!matchesOp(fault.spec.op, op) || !matchesPrefix(fault.spec.keyPrefix, op, key)) continue;
      fault.matched++;
      if (fault.matched < fault.first || fault.matched > fault.last) continue;
      if (fault.spec.probability !== undefined && (fault.spec.random ?? Math.random)() >= fault.spec.probability) continue;
      fault.fired++;
      delayMs += fault.spec.delayMs ?? 0;
      hang ||= fault.spec.hang === true;
      if (fault.fails && firing === undefined) {
        const call = { op, key, call: fault.matched };
        const error = fault.spec.error?.(call) ?? new InjectedFaultError(`injected fault: ${op} #${call.call} of ${key}`);
        firing = { error, after: fault.spec.when === 'after' };
      }
    }
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (hang) await this.#unhang.promise;
    return firing;
  }
}

/** A promise and the function that resolves it. */
function released(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

function matchesOp(ops: StoreOp | readonly StoreOp[], op: StoreOp): boolean {
  return typeof ops === 'string' ? ops === op : ops.includes(op);
}

function matchesPrefix(keyPrefix: string | undefined, op: StoreOp, key: string): boolean {
  if (keyPrefix === undefined) return true;
  if (op === 'list') return key.startsWith(keyPrefix) || keyPrefix.startsWith(key);
  return key.startsWith(keyPrefix);
}
