import { describe, expect, it } from 'vitest';
import { isCatalogError } from '../../../src/service/service-errors.js';
import { compileFilters, type FilterTable } from '../../../src/service/state/filters.js';

interface Item { id: string; size: number; on: boolean; at: Date; tags: Array<{ key: string; value: string }>; devices: string[] }

const TABLE: FilterTable<Item> = {
  resource: 'item',
  idField: 'item-id',
  tags: (i) => i.tags,
  fields: {
    'item-id': (i) => i.id,
    size: (i) => i.size,
    on: (i) => i.on,
    'created-at': (i) => i.at,
    device: (i) => i.devices,
  },
};

const a: Item = { id: 'a-1', size: 8, on: true, at: new Date('2026-11-26T10:00:00Z'), tags: [{ key: 'Name', value: 'web server' }], devices: ['/dev/sdf'] };
const b: Item = { id: 'b-2', size: 80, on: false, at: new Date('2026-12-01T00:00:00Z'), tags: [{ key: 'env', value: 'dev' }], devices: [] };
const run = (filters: Array<{ Name?: string; Values?: string[] }>) => [a, b].filter(compileFilters(TABLE, filters).matches).map((i) => i.id);

describe('filters', () => {
  it('ANDs filters and ORs the values of one filter', () => {
    expect(run([{ Name: 'size', Values: ['8', '80'] }])).toEqual(['a-1', 'b-2']);
    expect(run([{ Name: 'size', Values: ['8', '80'] }, { Name: 'on', Values: ['false'] }])).toEqual(['b-2']);
    expect(run([])).toEqual(['a-1', 'b-2']);
  });

  it('matches booleans, numbers and ISO timestamps by their wire form, case-sensitively', () => {
    expect(run([{ Name: 'on', Values: ['true'] }])).toEqual(['a-1']);
    expect(run([{ Name: 'on', Values: ['True'] }])).toEqual([]);
    expect(run([{ Name: 'created-at', Values: ['2026-11-26T10:00:00.000Z'] }])).toEqual(['a-1']);
    expect(run([{ Name: 'created-at', Values: ['2026-12-*'] }])).toEqual(['b-2']);
  });

  it('supports * and ? wildcards, and \\ to escape them', () => {
    expect(run([{ Name: 'item-id', Values: ['?-*'] }])).toEqual(['a-1', 'b-2']);
    expect(run([{ Name: 'tag:Name', Values: ['web*'] }])).toEqual(['a-1']);
    expect(run([{ Name: 'tag:Name', Values: ['web\\*'] }])).toEqual([]);
    const star: Item = { ...a, tags: [{ key: 'Name', value: 'web*' }] };
    expect(compileFilters(TABLE, [{ Name: 'tag:Name', Values: ['web\\*'] }]).matches(star)).toBe(true);
    expect(run([{ Name: 'item-id', Values: ['a.1'] }])).toEqual([]); // regex metacharacters are literal
  });

  it('tag:<key> matches values of that key, tag-key any key; list fields match any element', () => {
    expect(run([{ Name: 'tag:env', Values: ['dev'] }])).toEqual(['b-2']);
    expect(run([{ Name: 'tag:env', Values: ['web server'] }])).toEqual([]);
    expect(run([{ Name: 'tag-key', Values: ['Name'] }])).toEqual(['a-1']);
    expect(run([{ Name: 'device', Values: ['/dev/sd?'] }])).toEqual(['a-1']);
  });

  it('names the ids to look up when the id filter has no wildcard', () => {
    expect(compileFilters(TABLE, [{ Name: 'item-id', Values: ['a-1', 'b-2'] }]).ids).toEqual(new Set(['a-1', 'b-2']));
    expect(compileFilters(TABLE, [{ Name: 'item-id', Values: ['a-*'] }]).ids).toBeUndefined();
    expect(compileFilters(TABLE, [{ Name: 'item-id', Values: ['a-1', 'b-2'] }, { Name: 'item-id', Values: ['b-2'] }]).ids).toEqual(new Set(['b-2']));
  });

  it('rejects unknown filter names and filters without values', () => {
    for (const bad of [[{ Name: 'bogus', Values: ['x'] }], [{ Name: 'size' }], [{ Values: ['x'] }]]) {
      let err: unknown;
      try {
        compileFilters(TABLE, bad);
      } catch (e) {
        err = e;
      }
      expect(isCatalogError(err, 'INVALID_PARAMETER_VALUE'), JSON.stringify(bad)).toBe(true);
    }
    expect(() => compileFilters(TABLE, [{ Name: 'bogus', Values: ['x'] }])).toThrow(/'bogus' is invalid for items.*tag-key/);
  });
});
