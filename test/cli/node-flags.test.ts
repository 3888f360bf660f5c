/**
 * The node flags ebs-sim runs with (src/cli/node-flags.ts): every way of starting it passes them,
 * and they bound V8's young generation as their comment says.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS, withNodeFlags } from '../../src/cli/node-flags.js';
import { REPO, startCliServer, type CliServer } from '../support/cli-server.js';

describe('node flags', () => {
  it('are in npm start, and not on the bin\'s shebang, which stays portable', () => {
    // `env -S` (flags on a shebang) is missing from BusyBox, OpenBSD and NetBSD: npx ebs-sim would fail there.
    const shebang = readFileSync(join(REPO, 'src/cli/main.ts'), 'utf8').split('\n')[0];
    expect(shebang).toBe('#!/usr/bin/env node');
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${NODE_FLAGS.join(' ')} dist/cli/main.js serve`);
  });

  it('are added to a child\'s flags, unless the caller set its own value', () => {
    expect(withNodeFlags(['--import', 'tsx'])).toEqual(['--import', 'tsx', ...NODE_FLAGS]);
    expect(withNodeFlags(['--max-semi-space-size=32'])).toEqual(['--max-semi-space-size=32']);
  });

  it('cap the young generation at 2 x 8 MiB where it would grow past that', () => {
    // Many objects that survive a scavenge: what queued requests look like to V8.
    const code = `
      const v8 = require('node:v8');
      let keep = [];
      for (let i = 0; i < 3e6; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 20000) keep = []; }
      console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);`;
    const newSpace = (flags: readonly string[]) => Number(execFileSync(process.execPath, [...flags, '-e', code], { encoding: 'utf8' }));
    expect(newSpace([])).toBeGreaterThan(16 * 2 ** 20);
    expect(newSpace(NODE_FLAGS)).toBeLessThanOrEqual(16 * 2 ** 20);
  });

  describe('a server the tests start', () => {
    let server: CliServer;
    beforeAll(async () => {
      server = await startCliServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    // /proc is Linux's; the tests run on Linux (CI's machine), where the check is real.
    it.skipIf(process.platform !== 'linux')('runs with them', () => {
      const argv = readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
      for (const flag of NODE_FLAGS) expect(argv).toContain(flag);
    });
  });
});
