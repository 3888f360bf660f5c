/**
 * Key rules, checked once by BaseObjectStore before any backend sees a key.
 *
 * Keys are `/`-separated, like `blocks/<sha256>` and `snapshots/<id>/manifest`. The rules are
 * the intersection of what S3 and a POSIX directory can both hold without two keys aliasing:
 * - not empty, at most 1024 bytes of UTF-8 (S3's limit);
 * - no leading `/`, no empty segment (`a//b`, trailing `/`), no `.` or `..` segment: on a
 *   filesystem these would name the same file as another key, or escape the root;
 * - no backslash (a separator on Windows) and no control characters (NUL cannot be in a
 *   path; the others cannot be in the XML of an S3 listing).
 */

import { InvalidKeyError } from './errors.js';

export const MAX_KEY_BYTES = 1024;

const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\\]/;

/** Returns why `key` is not a valid object key, or undefined if it is. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key.length === 0) return 'empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  if (FORBIDDEN_CHARS.test(key)) return 'contains a backslash or a control character';
  if (key.startsWith('/')) return 'starts with /';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty segment (// or a trailing /)';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  }
  return undefined;
}

export function validateKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new InvalidKeyError(String(key), problem);
}

/**
 * A list prefix is any leading part of a key, so it may be empty or end in `/` or mid-segment.
 * Only what no key could ever contain is rejected.
 */
export function validatePrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new InvalidKeyError(String(prefix), 'prefix is not a string');
  if (Buffer.byteLength(prefix, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidKeyError(prefix, `prefix longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (FORBIDDEN_CHARS.test(prefix)) {
    throw new InvalidKeyError(prefix, 'prefix contains a backslash or a control character');
  }
  if (prefix.startsWith('/')) throw new InvalidKeyError(prefix, 'prefix starts with /');
}

/**
 * Key order of every list(): by UTF-8 bytes, as S3 lists. JavaScript's `<` compares UTF-16
 * code units, which disagrees for characters above U+FFFF versus U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
