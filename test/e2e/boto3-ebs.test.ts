/** The EBS direct APIs with boto3's `ebs` client (boto3_ebs.py) against `ebs-sim serve`. */
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

it.skipIf(unavailable !== undefined)('writes, waits for, lists, diffs and fetches a snapshot block by block', async () => {
  const seed = testSeed();
  const result = await runPythonScript('boto3_ebs.py', [server.endpoint, String(seed)]);
  expect(result, `seed ${seed}`).toEqual({
    started: { Status: 'pending', VolumeSize: 1, BlockSize: 524288, Tags: [{ Key: 'by', Value: 'boto3' }] },
    completeStatus: 'pending',
    refused: { code: 'ValidationException', reason: 'INVALID_BLOCK' },
    described: { State: 'completed', Progress: '100%', VolumeSize: 1 },
    listed: [0, 1, 40, 41],
    fetchedOk: true,
    changed: [[40, true, true]],
  });
});
