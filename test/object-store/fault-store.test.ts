import { describe, expect, it } from 'vitest';
import { FaultStore, InjectedFaultError, MemoryStore, ObjectNotFoundError } from '../../src/object-store/index.js';
import { collect, expectCode } from './helpers.js';
import { objectStoreSuite } from './suite.js';

objectStoreSuite('fault (no faults scheduled) over memory', { open: async () => new FaultStore(new MemoryStore()) }, {
  keyAlsoPrefix: true,
});

const body = Buffer.from('data');

/** Runs `count` puts of blocks/1..count; returns which ones failed. */
async function putSeries(store: FaultStore, count: number, prefix = 'blocks/'): Promise<number[]> {
  const failed: number[] = [];
  for (let i = 1; i <= count; i++) {
    await store.put(`${prefix}${i}`, body).catch(() => failed.push(i));
  }
  return failed;
}

describe('fault store', () => {
  it('fails the nth call once, before it reaches the inner store, with a clear message', async () => {
    const inner = new MemoryStore();
    const store = new FaultStore(inner, [{ op: 'put', nth: 3 }]);
    expect(store.unusedFaults()).toEqual([{ op: 'put', nth: 3 }]);
    await store.put('blocks/1', body);
    await store.put('blocks/2', body);
    const err = await store.put('blocks/3', body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InjectedFaultError);
    expect(err).toMatchObject({ code: 'OBJECT_STORE_FAILURE', message: 'injected fault: put #3 of blocks/3' });
    expect(await inner.head('blocks/3')).toBeUndefined();
    await store.put('blocks/3', body); // a retry succeeds
    expect(await putSeries(store, 5)).toEqual([]);
    expect(store.unusedFaults()).toEqual([]);
    expect(inner.stats().puts).toBe(8);
    expect(store.stats()).toMatchObject({ puts: 8, failures: 1 });
  });

  it('fails `times` consecutive calls, or every call with `always`, until cleared', async () => {
    const store = new FaultStore(new MemoryStore(), [{ op: 'put', nth: 3, times: 2 }]);
    expect(await putSeries(store, 6)).toEqual([3, 4]);
    store.clearFaults();
    store.addFault({ op: 'put', always: true });
    expect(await putSeries(store, 3)).toEqual([1, 2, 3]);
    expect(store.unusedFaults()).toEqual([]);
    store.clearFaults();
    expect(await putSeries(store, 3)).toEqual([]);
  });

  it('counts from when a fault is added, and reports faults that never fired', async () => {
    const store = new FaultStore(new MemoryStore());
    await putSeries(store, 5);
    store.addFault({ op: 'put', nth: 2 });
    store.addFault({ op: 'delete', nth: 1 });
    expect(await putSeries(store, 3)).toEqual([2]);
    expect(store.unusedFaults()).toEqual([{ op: 'delete', nth: 1 }]);
    store.addFault({ op: 'put', nth: 1, times: 3 });
    await putSeries(store, 2);
    expect(store.unusedFaults()).toEqual([{ op: 'delete', nth: 1 }, { op: 'put', nth: 1, times: 3 }]);
  });

  it('filters by key prefix', async () => {
    const store = new FaultStore(new MemoryStore(), [{ op: 'put', nth: 2, keyPrefix: 'snapshots/' }]);
    expect(await putSeries(store, 4, 'blocks/')).toEqual([]);
    expect(await putSeries(store, 3, 'snapshots/')).toEqual([2]);
    store.addFault({ op: 'list', keyPrefix: 'snapshots/' });
    expect(await collect(store.list('blocks/'))).toHaveLength(4); // does not overlap: unaffected
    await expectCode(collect(store.list('')), 'OBJECT_STORE_FAILURE'); // '' covers snapshots/
  });

  it('slows a call down with delayMs without failing it', async () => {
    const store = new FaultStore(new MemoryStore(), [{ op: 'get', delayMs: 200 }]);
    await store.put('k', body);
    const started = performance.now();
    expect((await store.get('k')).toString()).toBe('data');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(store.unusedFaults()).toEqual([]);
  });

  it("with when: 'after', performs the call and then fails it (a lost acknowledgement)", async () => {
    const inner = new MemoryStore();
    const store = new FaultStore(inner, [{ op: 'put', keyPrefix: 'snapshots/', when: 'after' }]);
    await expectCode(store.put('snapshots/s1/manifest', body), 'OBJECT_STORE_FAILURE');
    expect((await inner.get('snapshots/s1/manifest')).toString()).toBe('data');
  });

  it('throws a scripted error as given, for head and delete too', async () => {
    const store = new FaultStore(new MemoryStore(), [
      { op: 'get', error: ({ key }) => new ObjectNotFoundError(key) },
      { op: 'head', nth: 1 },
      { op: 'delete', nth: 1 },
    ]);
    await store.put('k', body);
    await expectCode(store.get('k'), 'OBJECT_NOT_FOUND');
    await expect(store.head('k')).rejects.toThrow('injected fault: head #1 of k');
    await expect(store.delete('k')).rejects.toThrow('injected fault: delete #1 of k');
    expect(store.unusedFaults()).toEqual([]);
    expect((await store.get('k')).toString()).toBe('data');
  });

  it('rejects nonsense fault scripts', () => {
    const store = new FaultStore(new MemoryStore());
    expect(() => store.addFault({ op: 'put', nth: 0 })).toThrow(RangeError);
    expect(() => store.addFault({ op: 'put', times: 1.5 })).toThrow(RangeError);
  });
});
