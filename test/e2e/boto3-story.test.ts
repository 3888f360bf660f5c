/** The story with boto3 (a Python script) against `ebs-sim serve`, in another region. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { botocoreUnavailable } from '../protocol/helpers/botocore.js';
import { startCliServer, type CliServer } from '../support/cli-server.js';
import { testSeed } from '../support/random.js';
import { runPythonScript } from './python-script.js';

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
  const result = (await runPythonScript('boto3_story.py', [server.endpoint, String(seed)])) as Record<string, unknown>;
  expect(result).toMatchObject({ snapshotState: 'completed', tags: [{ Key: 'by', Value: 'boto3' }], bytes: 1024 * 1024 + 77 });
});
