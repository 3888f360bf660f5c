/** Filter wildcards: the same answers as a regular expression, in time that no pattern can blow up. */
import { describe, expect, it } from 'vitest';
import { compileFilters } from '../../../src/service/state/filters.js';
import { compileWildcard } from '../../../src/service/state/wildcard.js';
import { Rng } from '../../support/random.js';

/** The reference: the regex the filters used before (exponential on `*a*a*…b`). */
function viaRegExp(pattern: string): (s: string) => boolean {
  let source = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) source += chars[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`, 'su');
  return (s) => re.test(s);
}

describe('wildcards', () => {
  it('agree with a regular expression on 20,000 random patterns and values', () => {
    const rng = new Rng(11);
    const alphabet = ['a', 'b', '*', '?', '\\', 'é'];
    const word = (n: number, chars: string[]) => Array.from({ length: rng.int(0, n) }, () => chars[rng.int(0, chars.length - 1)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const pattern = word(7, alphabet);
      const value = word(8, ['a', 'b', '*', '?', 'é']);
      expect(compileWildcard(pattern).test(value), `${JSON.stringify(pattern)} on ${JSON.stringify(value)}`).toBe(viaRegExp(pattern)(value));
    }
  });

  it('answers at once for a pattern that makes a backtracking regex run for ever', () => {
    const value = 'a'.repeat(256);
    const pattern = `${'*a'.repeat(40)}b`;
    expect(compileWildcard(pattern).test(value)).toBe(false);
    expect(compileWildcard(`${'*a'.repeat(40)}*`).test(value)).toBe(true);
  });

  it('caps how many values a filter has and how long each is', () => {
    const table = { resource: 'item', fields: { id: (i: { id: string }) => i.id } };
    expect(() => compileFilters(table, [{ Name: 'id', Values: Array.from({ length: 201 }, (_, i) => `v${i}`) }])).toThrow(/at most 200/);
    expect(() => compileFilters(table, [{ Name: 'id', Values: ['*'.repeat(1025)] }])).toThrow(/at most 1024/);
    expect(compileFilters(table, [{ Name: 'id', Values: Array.from({ length: 200 }, (_, i) => `v${i}`) }]).matches({ id: 'v7' })).toBe(true);
  });
});
