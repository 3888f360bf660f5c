import { expect, it } from 'vitest';
import { HeadCache } from '../../src/core/head-cache.js';

const head = (birth: number) => ({ birth, base: null, deltaCount: 0, deltaBytes: 0, hidesOlder: false, inherits: 0 });

it('bounds its entries across all volumes, evicting the least recently used', () => {
  const cache = new HeadCache(3);
  cache.set('vol-a', 1, head(1));
  cache.set('vol-b', 1, head(2));
  cache.set('vol-c', 1, null);
  expect(cache.get('vol-a', 1)).toEqual(head(1)); // refreshed: vol-b is now the oldest
  cache.set('vol-d', 7, head(4));
  expect(cache.get('vol-b', 1)).toBeUndefined();
  expect(cache.get('vol-c', 1)).toBeNull();
  cache.dropVolume('vol-a');
  expect(cache.get('vol-a', 1)).toBeUndefined();
  expect(cache.get('vol-d', 7)).toEqual(head(4));
});
