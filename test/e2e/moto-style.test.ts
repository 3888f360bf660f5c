/**
 * A moto-style suite (boto3, endpoint_url, a reset before each test) against `ebs-sim serve`:
 * under --timing instant with no waiters, and under the default timing with waiters.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { botocoreUnavailable } from '../protocol/helpers/botocore.js';
import { startCliServer, type CliServer } from '../support/cli-server.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./moto_style_suite.py', import.meta.url));
const unavailable = botocoreUnavailable();
const servers: CliServer[] = [];
afterAll(async () => {
  for (const s of servers) expect((await s.stop()).code).toBe(0);
});

for (const timing of ['instant', 'aws'] as const) {
  it.skipIf(unavailable !== undefined)(`passes under --timing ${timing}`, async () => {
    const server = await startCliServer(['--allow-reset', '--timing', timing]);
    servers.push(server);
    const { stdout } = await run('python3', [SCRIPT, server.endpoint, timing], {
      env: { ...process.env, AWS_CONFIG_FILE: '/nonexistent/ebs-sim-test', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    }).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`moto-style suite failed under --timing ${timing}:\n${e.stderr}\n${e.stdout}`);
    });
    const results = JSON.parse(stdout);
    expect(results.test_snapshot_holds_its_instant.state).toBe(timing === 'instant' ? 'completed' : 'pending');
    expect(results).toHaveProperty('test_reset_leaves_nothing');
  });
}
