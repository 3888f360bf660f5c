/**
 * The layering of DESIGN.md, checked on the import lines: each layer imports only the layers
 * below it (nothing imports server/ but the command line; the core imports no service, copy or
 * object-store code); protocol code knows no LevelDB and no key layout; only core/keys.ts builds
 * LevelDB keys.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
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

/**
 * What each layer (a folder of src/, or the composition root) may import besides itself.
 * cli/ is the top: it may import anything.
 */
const ALLOWED: Record<string, string[]> = {
  server: ['protocol', 'service', 'simulator.ts', 'nbd', 'core', 'labs'], // core: its error codes, in the data plane's table; labs: the console runs them
  protocol: ['service', 'core', 'object-store'], // the service's types; error codes of every layer, mapped
  'simulator.ts': ['service', 'copy', 'guest', 'nbd', 'core', 'object-store'],
  service: ['copy', 'guest', 'nbd', 'core'],
  guest: ['nbd', 'core'],
  copy: ['core', 'object-store'],
  nbd: [],
  core: [],
  'object-store': ['platform'],
  bench: ['platform'], // a client of the server: only its public interfaces, never its internals
  platform: [], // what the OS needs done its way (aligned buffers for O_DIRECT), knowing nothing of ebs-sim
  labs: [], // lessons that drive a running server through its HTTP interfaces: they import nothing of it
};

/** The layer a path under src/ belongs to; simulator-controls.ts and simulator-options.ts are part of the composition root. */
const layerOf = (rel: string) => (rel.includes(sep) ? rel.split(sep)[0]! : rel.replace(/\.js$/, '.ts').replace(/^simulator-(controls|options)\.ts$/, 'simulator.ts'));

describe('layers', () => {
  it('every layer imports only the layers it may (and every folder of src/ is a known layer)', () => {
    const bad: string[] = [];
    for (const f of files(SRC)) {
      const rel = relative(SRC, f);
      const layer = layerOf(rel);
      if (layer === 'cli') continue;
      const allowed = ALLOWED[layer];
      if (!allowed) {
        bad.push(`${rel}: unknown layer ${layer}`);
        continue;
      }
      for (const spec of imports(f).filter((i) => i.startsWith('.'))) {
        const target = layerOf(relative(SRC, normalize(join(dirname(f), spec))));
        if (target !== layer && !allowed.includes(target)) bad.push(`${rel} -> ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the core imports no HTTP, XML, protocol, object store, copy engine or simulator code', () => {
    const bad = under('core').flatMap(({ file, imports: list }) =>
      list.filter((i) => /fastify|xml|(^|\/)(protocol|server|object-store|copy|service|cli|nbd|guest)\/|simulator\.js/.test(i)).map((i) => `${file} -> ${i}`),
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
