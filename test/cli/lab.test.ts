/**
 * `ebs-sim lab`: each lab runs against a real `ebs-sim serve` and exits 0 because its claim held;
 * without --endpoint a lab starts (and stops) a server of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliServer, type CliServer } from '../support/cli-server.js';

describe('ebs-sim lab', () => {
  let server: CliServer;

  beforeAll(async () => {
    server = await startCliServer();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  for (const name of ['page-cache', 'pending', 'multi-volume', 'incremental']) {
    it(`${name}: runs against a real server and its claim holds`, async () => {
      const r = await runCli(['lab', name, '--endpoint', server.endpoint]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('The claim held.');
      expect(r.stdout).not.toContain('✗');
      expect(r.code).toBe(0);
    }, 60_000);
  }

  it('starts its own server (with the flags the lab wants) without --endpoint', async () => {
    const r = await runCli(['lab', 'pending']);
    expect(r.stdout).toMatch(/started for this lab with --copy-rate 4MiB/);
    expect(r.stdout).toContain('The claim held.');
    expect(r.code).toBe(0);
  }, 60_000);

  it('names the labs on a usage error, and has help', async () => {
    const bad = await runCli(['lab', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('page-cache, pending, multi-volume, incremental');
    const help = await runCli(['lab', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--endpoint URL');
  }, 30_000);
});
