import { Ec2ProtocolError } from './protocol-errors.js';

/**
 * Splits an `application/x-www-form-urlencoded` string (a POST body, or a GET query string with
 * or without its `?`) into decoded key/value pairs, in order.
 *
 * Stricter than `URLSearchParams`, which silently keeps a bad `%zz` and turns invalid UTF-8 into
 * U+FFFD: both are `MalformedQueryString` here, so a mangled value never reaches a handler.
 * Spaces may be `+` (botocore, the CLI) or `%20` (JS v3).
 */
export function parseFormPairs(raw: string): Array<[string, string]> {
  const text = raw.startsWith('?') ? raw.slice(1) : raw;
  const pairs: Array<[string, string]> = [];
  for (const segment of text.split('&')) {
    if (segment === '') continue; // `a=1&&b=2` and a trailing `&` are harmless
    const eq = segment.indexOf('=');
    const rawKey = eq < 0 ? segment : segment.slice(0, eq);
    const rawValue = eq < 0 ? '' : segment.slice(eq + 1);
    const k = decodeComponent(rawKey);
    if (k === '') throw new Ec2ProtocolError('MalformedQueryString', `The query string contains a parameter with an empty name: '${segment}'.`);
    pairs.push([k, decodeComponent(rawValue)]);
  }
  return pairs;
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new Ec2ProtocolError('MalformedQueryString', `The query string contains an invalid percent-encoding: '${s}'.`);
  }
}
