/**
 * EC2 filter wildcards without regular expressions: `*` matches any run of characters, `?` any
 * one, `\` escapes either. A regex built from `*a*a*a…b` backtracks exponentially (one request
 * froze the server for 84 s); this matcher splits the pattern at its stars and places each
 * piece at its leftmost fit, which is always right for stars, so a match costs at most
 * O(pattern × text), whatever the pattern.
 */

/** One star-free piece of a pattern: its characters, `undefined` standing for `?`. */
type Piece = Array<string | undefined>;

export interface Wildcard {
  test(s: string): boolean;
  /** The value itself when it has no wildcard. */
  literal?: string;
}

export function compileWildcard(value: string): Wildcard {
  if (!/[*?\\]/.test(value)) return { test: (s) => s === value, literal: value };
  const pieces: Piece[] = [[]];
  for (const c of iterate(value)) {
    if (c === STAR) pieces.push([]);
    else pieces[pieces.length - 1]!.push(c);
  }
  if (pieces.length === 1) {
    const only = pieces[0]!;
    return { test: (s) => [...s].length === only.length && fitsAt([...s], only, 0) };
  }
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((p) => p.length > 0);
  return {
    test(s) {
      const chars = [...s]; // by code point, as `?` means one character
      const end = chars.length - last.length;
      if (end < first.length || !fitsAt(chars, first, 0) || !fitsAt(chars, last, end)) return false;
      let at = first.length;
      for (const piece of middle) {
        const found = leftmostFit(chars, piece, at, end);
        if (found < 0) return false;
        at = found + piece.length;
      }
      return true;
    },
  };
}

const STAR = Symbol('star');

/** The pattern's characters: a string, `undefined` for `?`, STAR for `*`. */
function* iterate(value: string): Generator<string | undefined | typeof STAR> {
  const chars = [...value];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) yield chars[++i]!;
    else if (c === '*') yield STAR;
    else if (c === '?') yield undefined;
    else yield c;
  }
}

function fitsAt(chars: string[], piece: Piece, at: number): boolean {
  for (let i = 0; i < piece.length; i++) {
    const want = piece[i];
    if (want !== undefined && chars[at + i] !== want) return false;
  }
  return true;
}

/** The first position in [from, end - piece.length] where the piece fits, or -1. */
function leftmostFit(chars: string[], piece: Piece, from: number, end: number): number {
  for (let at = from; at + piece.length <= end; at++) if (fitsAt(chars, piece, at)) return at;
  return -1;
}
