import { describe, expect, it } from 'vitest';
import { isCatalogError } from '../../../src/service/service-errors.js';
import { encodeToken, pageOf, paginate } from '../../../src/service/state/pagination.js';

const items = Array.from({ length: 12 }, (_, i) => ({ seq: i + 1, name: `item${i + 1}` }));
const limits = { min: 5, max: 10 };

describe('pagination', () => {
  it('walks every item exactly once, page by page, and ends without a token', () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = paginate(items, (i) => i.seq, { maxResults: 5, nextToken: token }, limits);
      seen.push(...page.items.map((i) => i.name));
      token = page.nextToken;
      pages++;
    } while (token);
    expect(seen).toEqual(items.map((i) => i.name));
    expect(pages).toBe(3);
  });

  it('gives no token when the last page is exactly full', () => {
    expect(paginate(items.slice(0, 5), (i) => i.seq, { maxResults: 5 }, limits).nextToken).toBeUndefined();
  });

  it('returns everything without MaxResults, caps large values and rejects small ones', () => {
    expect(paginate(items, (i) => i.seq, {}, limits).items).toHaveLength(12);
    expect(paginate(items, (i) => i.seq, { maxResults: 1000 }, limits).items).toHaveLength(10);
    expect(() => paginate(items, (i) => i.seq, { maxResults: 4 }, limits)).toThrow(/greater than or equal to 5/);
  });

  it('keeps its place when items before it are deleted', () => {
    const first = paginate(items, (i) => i.seq, { maxResults: 5 }, limits);
    const rest = paginate(items.slice(3), (i) => i.seq, { maxResults: 5, nextToken: first.nextToken }, limits);
    expect(rest.items[0]!.name).toBe('item6');
  });

  it('rejects tokens it did not make', () => {
    for (const token of ['garbage', Buffer.from('ebs-sim:1:-4').toString('base64url'), encodeToken(3).slice(1)]) {
      let err: unknown;
      try {
        paginate(items, (i) => i.seq, { nextToken: token }, limits);
      } catch (e) {
        err = e;
      }
      expect(isCatalogError(err, 'INVALID_PAGINATION_TOKEN'), token).toBe(true);
    }
  });

  it('filters before paging, building views lazily', () => {
    let built = 0;
    const page = pageOf(items, (i) => (built++, i.name), (name) => Number(name.slice(4)) % 2 === 0, { maxResults: 5 }, limits);
    expect(page.items).toEqual(['item2', 'item4', 'item6', 'item8', 'item10']);
    expect(page.nextToken).toBeDefined();
    expect(built).toBe(12); // it looked one match past the page to know there is more
    const next = pageOf(items, (i) => i.name, (name) => Number(name.slice(4)) % 2 === 0, { maxResults: 5, nextToken: page.nextToken }, limits);
    expect(next.items).toEqual(['item12']);
  });
});
