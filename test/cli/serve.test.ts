/** The `ebs-sim` command line: help, flag errors, startup, signals. */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateVolumeCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { parseByteSize } from '../../src/cli/byte-size.js';
import { parseServeArgs } from '../../src/cli/serve-args.js';
import { runCli, startCliServer } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';

describe('ebs-sim serve', () => {
  it('--help explains every flag and exits 0', async () => {
    const [r, top, fsck] = await Promise.all([runCli(['serve', '--help']), runCli(['--help']), runCli(['fsck', '--help'])]);
    expect(r.code).toBe(0);
    for (const flag of ['--host', '--port', '--data-dir', '--object-store', '--account-id', '--auth', '--credentials', '--copy-rate', '--snapshot-interval', '--store-retry-budget', '--store-timeout', '--nbd-port', '--dirty-expire', '--sync', '--allow-reset', '--allow-control', '--timing', '--direct-rate-limits', '--help']) {
      expect(r.stdout, flag).toContain(flag);
    }
    expect(r.stdout).toContain('default 7447');
    expect([top.code, top.stdout]).toEqual([0, expect.stringContaining('Commands:')]);
    expect(fsck.stdout).toContain('Exit status: 0 clean, 1 problems found');
    expect(top.stdout).toContain('nbd-psk');
  });

  it('refuses bad flags with a message that says what to fix', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bogus'], /Unknown option '--bogus'/],
      [['--port', 'http'], /--port must be a TCP port number/],
      [['--port', '70000'], /--port must be a TCP port number/],
      [['--auth', 'maybe'], /--auth must be none or sigv4/],
      [['--auth', 'sigv4'], /--auth sigv4 needs --credentials/],
      [['--copy-rate', 'fast'], /--copy-rate must be a positive rate.*50MB/],
      [['--snapshot-interval', 'soon'], /--snapshot-interval must be a number of seconds/],
      [['--account-id', '42'], /--account-id must be 12 digits/],
      [['--nbd-port', 'nbd'], /--nbd-port must be a TCP port number/],
      [['--dirty-expire', 'soon'], /--dirty-expire must be a number of seconds \(0 for write-through\)/],
      [['--store-retry-budget', '0'], /--store-retry-budget must be a positive number of seconds/],
      [['--store-timeout', 'soon'], /--store-timeout must be a positive number of seconds/],
      [['--timing', 'fast'], /--timing must be aws or instant, got 'fast'/],
      [['--direct-rate-limits', 'no'], /--direct-rate-limits must be on or off, got 'no'/],
      [['extra'], /serve takes no arguments/],
    ];
    for (const [args, message] of cases) expect(() => parseServeArgs(args), args.join(' ')).toThrow(message);
    expect(parseServeArgs(['--copy-rate', '50MB', '--snapshot-interval', '15', '--sync'])).toMatchObject({
      host: '127.0.0.1', port: 7447, copyRate: 50_000_000, snapshotIntervalSeconds: 15, sync: true, allowReset: false, auth: 'none', accountId: '123456789012',
      dirtyExpireSeconds: 30,
    });
    expect(parseServeArgs(['--nbd-port', '10809', '--dirty-expire', '0'])).toMatchObject({ nbdPort: 10809, dirtyExpireSeconds: 0, allowControl: false });
    expect(parseServeArgs(['--allow-control'])).toMatchObject({ allowControl: true, allowReset: false, timing: 'aws' });
    expect(parseServeArgs(['--timing', 'instant'])).toMatchObject({ timing: 'instant' });
    expect(parseServeArgs([])).toMatchObject({ directRateLimits: true });
    expect(parseServeArgs(['--direct-rate-limits', 'off'])).toMatchObject({ directRateLimits: false });
    expect(parseServeArgs([])).not.toHaveProperty('nbdPort');
    expect(parseServeArgs(['--store-retry-budget', '600', '--store-timeout', '2.5'])).toMatchObject({ storeRetryBudgetSeconds: 600, storeTimeoutSeconds: 2.5 });
  });

  it('exits 2 on a usage error, with the message and no stack trace', async () => {
    const results = await Promise.all([
      runCli(['serve', '--bogus']),
      runCli(['launch']),
      runCli(['serve', '--auth', 'sigv4', '--credentials', '/nonexistent/creds.json', '--port', '0']),
      runCli(['serve', '--object-store', 'ftp://x', '--port', '0']),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(results[3]!.stderr).toMatch(/--object-store: .*expected fs:<dir>/);
    expect(results[0]!.stderr).toMatch(/Unknown option '--bogus'.*See 'ebs-sim serve --help'/);
    expect(results[1]!.stderr).toMatch(/unknown command 'launch'/);
    expect(results[2]!.stderr).toMatch(/cannot read credentials file \/nonexistent\/creds.json/);
    for (const r of results) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints its URL once ready, serves, and stops cleanly on SIGTERM', async () => {
    const server = await startCliServer(['--allow-reset']);
    try {
      expect(server.stdout()).toMatch(/^ebs-sim listening on http:\/\/127\.0\.0\.1:\d+\n/);
      expect(server.stdout()).toContain(`  console       ${server.endpoint}/console/`);
      expect((await fetch(`${server.endpoint}/console/`)).headers.get('content-type')).toContain('text/html');
      expect((await fetch(`${server.endpoint}/_ebs-sim/health`)).status).toBe(200);
      expect((await fetch(`${server.endpoint}/_ebs-sim/reset`, { method: 'POST' })).status).toBe(200);
    } finally {
      const r = await server.stop();
      expect([r.code, r.signal]).toEqual([0, null]);
      expect(r.stderr).toContain('SIGTERM, stopping');
    }
  });

  it('stops on SIGINT too, and keeps its data for the next start', async () => {
    const tmp = tempDir();
    try {
      const creds = join(tmp.dir, 'creds.json');
      writeFileSync(creds, JSON.stringify({ credentials: [{ accessKeyId: 'AKIAONE', secretAccessKey: 's1', accountId: '999988887777' }] }));
      const args = ['--data-dir', join(tmp.dir, 'db'), '--object-store', `fs:${join(tmp.dir, 'obj')}`, '--auth', 'sigv4', '--credentials', creds];
      const first = await startCliServer(args);
      const client = (endpoint: string) => new EC2Client({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'AKIAONE', secretAccessKey: 's1' }, maxAttempts: 1 });
      let c = client(first.endpoint);
      const v = await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
      c.destroy();
      const exited = once(first.child, 'exit');
      first.child.kill('SIGINT');
      await exited; // before stop(), which would send SIGTERM to a server still shutting down
      const r = await first.stop();
      expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('SIGINT, stopping')]);

      const second = await startCliServer(args);
      c = client(second.endpoint);
      const described = await c.send(new DescribeVolumesCommand({}));
      c.destroy();
      expect(described.Volumes!.map((x) => [x.VolumeId, x.State])).toEqual([[v.VolumeId, 'available']]);
      expect((await second.stop()).code).toBe(0);
    } finally {
      tmp.remove();
    }
  });
});

describe('byte sizes', () => {
  it('reads plain numbers, binary and decimal units, and /s', () => {
    expect(parseByteSize('1048576')).toBe(1048576);
    expect(parseByteSize('50MB')).toBe(50_000_000);
    expect(parseByteSize('50MiB')).toBe(50 * 1024 ** 2);
    expect(parseByteSize('20m/s')).toBe(20 * 1024 ** 2);
    expect(parseByteSize('1.5k')).toBe(1536);
    expect(parseByteSize('2 GB')).toBe(2e9);
    for (const bad of ['', 'fast', '5XB', '-1', '1e3']) expect(parseByteSize(bad), bad).toBeUndefined();
  });
});
