/**
 * `ebs-sim lab`: each lab runs against a real `ebs-sim serve` and exits 0 because its claim held;
 * without --endpoint a lab starts (and stops) a server of its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliServer, type CliServer } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

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
    expect(r.stdout).toMatch(/started for this lab with --copy-rate 2MiB/);
    expect(r.stdout).toContain('the writes landed during pending'); // 8 MiB at 2 MiB/s: a 4 s copy
    expect(r.stdout).toContain('The claim held.');
    expect(r.code).toBe(0);
  }, 60_000);

  it('signs its requests with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for a server under --auth sigv4', async () => {
    const tmp = tempDir();
    const file = join(tmp.dir, 'credentials.json');
    writeFileSync(file, JSON.stringify({ credentials: [{ accessKeyId: 'AKIALAB', secretAccessKey: 'lab-secret', accountId: '444455556666' }] }));
    const signed = await startCliServer(['--auth', 'sigv4', '--credentials', file]);
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    try {
      process.env.AWS_ACCESS_KEY_ID = 'AKIALAB';
      process.env.AWS_SECRET_ACCESS_KEY = 'lab-secret';
      const r = await runCli(['lab', 'incremental', '--endpoint', signed.endpoint]);
      expect(r.stdout).toContain('The claim held.');
      expect(r.code).toBe(0);
      process.env.AWS_SECRET_ACCESS_KEY = 'wrong';
      const refused = await runCli(['lab', 'page-cache', '--endpoint', signed.endpoint]);
      expect(refused.stdout).toContain('SignatureDoesNotMatch');
      expect(refused.code).toBe(1);
    } finally {
      restoreEnv('AWS_ACCESS_KEY_ID', saved.id);
      restoreEnv('AWS_SECRET_ACCESS_KEY', saved.secret);
      await signed.stop();
      tmp.remove();
    }
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
