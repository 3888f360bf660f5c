/**
 * A moto-style suite (boto3, endpoint_url, a reset before each test) against `ebs-sim serve`:
 * under --timing instant with no waiters, and under the default timing with waiters.
 */
import { afterAll, expect, it } from 'vitest';
import { botocoreUnavailable } from '../protocol/helpers/botocore.js';
import { startCliServer, type CliServer } from '../support/cli-server.js';
import { runPythonScript } from './python-script.js';

const unavailable = botocoreUnavailable();
const servers: CliServer[] = [];
afterAll(async () => {
  for (const s of servers) expect((await s.stop()).code).toBe(0);
});

for (const timing of ['instant', 'aws'] as const) {
  it.skipIf(unavailable !== undefined)(`passes under --timing ${timing}`, async () => {
    const server = await startCliServer(['--allow-reset', '--timing', timing]);
    servers.push(server);
    const results = await runPythonScript('moto_style_suite.py', [server.endpoint, timing], { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
    expect(results.test_snapshot_holds_its_instant.state).toBe(timing === 'instant' ? 'completed' : 'pending');
    expect(results).toHaveProperty('test_reset_leaves_nothing');
  });
}
