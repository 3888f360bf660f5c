/**
 * The layering of DESIGN.md, checked on the import lines: the storage core knows no HTTP, XML,
 * object store or copy engine; protocol code knows no LevelDB and no key layout; only
 * core/keys.ts builds LevelDB keys.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

const under = (dir: string) => files(join(SRC, dir)).map((f) => ({ file: relative(SRC, f), imports: imports(f) }));

describe('layers', () => {
  it('the core imports no HTTP, XML, protocol, object store, copy engine or simulator code', () => {
    const bad = under('core').flatMap(({ file, imports: list }) =>
      list.filter((i) => /fastify|xml|\/(protocol|server|object-store|copy|simulator|catalog|cli|nbd|guest)\//.test(i)).map((i) => `${file} -> ${i}`),
    );
    expect(bad).toEqual([]);
  });

  it('protocol code knows neither LevelDB nor the key layout', () => {
    const bad = under('protocol').flatMap(({ file, imports: list }) =>
      list.filter((i) => /classic-level|level|core\/keys/.test(i)).map((i) => `${file} -> ${i}`),
    );
    expect(bad).toEqual([]);
  });

  it('only the core uses the key layout, and only core/keys.ts spells key tags', () => {
    const outside = files(SRC)
      .filter((f) => !relative(SRC, f).startsWith('core'))
      .flatMap((f) => imports(f).filter((i) => /core\/keys/.test(i)).map((i) => `${relative(SRC, f)} -> ${i}`));
    expect(outside).toEqual([]);
    const tags = files(SRC)
      .filter((f) => !f.endsWith(join('core', 'keys.ts')))
      .filter((f) => /Buffer\.from\(\[0x[0-9a-f]{2}\]\)|Buffer\.from\('[A-Z]'\)/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(tags).toEqual([]);
  });
});
