/**
 * MaxResults / NextToken. Listings run in creation order (`seq`), and a token is the seq of the
 * last item returned, so pages stay consistent while items are added or deleted between calls.
 * Tokens are opaque to clients; a token that does not decode is InvalidPaginationToken.
 */
import { CatalogError, invalidValue } from '../service-errors.js';

export interface PageRequest {
  maxResults?: number;
  nextToken?: string;
}

export interface PageLimits {
  /** Smallest MaxResults accepted (EC2: 5 for most Describe calls). */
  min: number;
  /** Larger values are lowered to this, as EC2 documents. */
  max: number;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

const PREFIX = 'ebs-sim:1:';

export function encodeToken(seq: number): string {
  return Buffer.from(`${PREFIX}${seq}`).toString('base64url');
}

function decodeToken(token: string): number {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const seq = text.startsWith(PREFIX) ? Number(text.slice(PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 0) throw new CatalogError('INVALID_PAGINATION_TOKEN', `The token '${token}' is invalid.`);
  return seq;
}

/** `items` must come in ascending seq order. */
export function paginate<T>(items: Iterable<T>, seqOf: (item: T) => number, req: PageRequest, limits: PageLimits): Page<T> {
  const after = req.nextToken === undefined || req.nextToken === '' ? -1 : decodeToken(req.nextToken);
  let limit = Infinity;
  if (req.maxResults !== undefined) {
    if (req.maxResults < limits.min) {
      throw invalidValue(`Value (${req.maxResults}) for parameter maxResults is invalid. Expecting a value greater than or equal to ${limits.min}.`);
    }
    limit = Math.min(req.maxResults, limits.max);
  }
  const out: T[] = [];
  for (const item of items) {
    if (seqOf(item) <= after) continue;
    if (out.length === limit) return { items: out, nextToken: encodeToken(seqOf(out[out.length - 1]!)) };
    out.push(item);
  }
  return { items: out };
}

/**
 * Views of `records` (ascending seq) that pass `matches`, one page of them. Filters apply before
 * paging, as in EC2; views are built lazily, so a page stops reading records once it is full.
 */
export function pageOf<R extends { seq: number }, V>(
  records: Iterable<R>,
  toView: (r: R) => V,
  matches: (v: V) => boolean,
  req: PageRequest,
  limits: PageLimits,
): Page<V> {
  const seqs = new Map<V, number>();
  function* views(): Generator<V> {
    for (const r of records) {
      const v = toView(r);
      if (!matches(v)) continue;
      seqs.set(v, r.seq);
      yield v;
    }
  }
  return paginate(views(), (v) => seqs.get(v)!, req, limits);
}
