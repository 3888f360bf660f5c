/** The story with boto3 (a Python script) against `ebs-sim serve`, in another region. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { botocoreUnavailable } from '../protocol/helpers/botocore.js';
import { startCliServer, type CliServer } from '../support/cli-server.js';
import { testSeed } from '../support/random.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./boto3_story.py', import.meta.url));
const unavailable = botocoreUnavailable();

let server: CliServer;
beforeAll(async () => {
  if (!unavailable) server = await startCliServer();
});
afterAll(async () => {
  if (server) expect((await server.stop()).code).toBe(0);
});

it.skipIf(unavailable !== undefined)('snapshot bytes are the ones written before create_snapshot', async () => {
  const seed = testSeed();
  const { stdout } = await run('python3', [SCRIPT, server.endpoint, String(seed)], { env: { ...process.env, AWS_CONFIG_FILE: '/nonexistent/ebs-sim-test' } })
    .catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`boto3 story failed (seed ${seed}):\n${e.stderr}\n${e.stdout}`);
    });
  const result = JSON.parse(stdout) as Record<string, unknown>;
  expect(result).toMatchObject({ snapshotState: 'completed', tags: [{ Key: 'by', Value: 'boto3' }], bytes: 1024 * 1024 + 77 });
});
