/**
 * The story with the AWS CLI (`aws ec2 … --endpoint-url`) and curl for the data plane,
 * against `ebs-sim serve`: the commands a newcomer would type.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findOnPath } from '../support/moto-server.js';
import { startCliServer, type CliServer } from '../support/cli-server.js';
import { Rng, testSeed } from '../support/random.js';

const run = promisify(execFile);
const aws = findOnPath('aws');
const curl = findOnPath('curl');

let server: CliServer;
beforeAll(async () => {
  server = await startCliServer();
});
afterAll(async () => {
  expect((await server.stop()).code).toBe(0);
});

const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '',
  AWS_CONFIG_FILE: '/nonexistent/ebs-sim-test', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ebs-sim-test', AWS_EC2_METADATA_DISABLED: 'true',
};

async function ec2(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(aws!, ['ec2', ...args, '--endpoint-url', server.endpoint, '--output', 'json'], { env });
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

async function curlPut(volumeId: string, offset: number, file: string): Promise<void> {
  const { stdout } = await run(curl!, ['-sS', '--fail-with-body', '-X', 'PUT', '--data-binary', `@${file}`, `${server.endpoint}/data/volumes/${volumeId}?offset=${offset}`]);
  expect(JSON.parse(stdout)).toMatchObject({ volumeId, offset });
}

it.skipIf(!aws || !curl)('snapshot bytes are the ones written before create-snapshot', async () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const before = join(server.dir, 'before.bin');
  const after = join(server.dir, 'after.bin');
  writeFileSync(before, rng.bytes(1024 * 1024 + 333));
  writeFileSync(after, rng.bytes(1024 * 1024 + 333));

  const vol = await ec2('create-volume', '--availability-zone', 'us-east-1a', '--size', '1', '--volume-type', 'gp3',
    '--tag-specifications', 'ResourceType=volume,Tags=[{Key=Name,Value=cli story}]');
  expect(vol).toMatchObject({ State: 'creating', Size: 1, SnapshotId: '', Attachments: [], Tags: [{ Key: 'Name', Value: 'cli story' }] });
  const volumeId = vol.VolumeId as string;
  await curlPut(volumeId, 4096, before);

  const snap = await ec2('create-snapshot', '--volume-id', volumeId, '--description', 'nightly backup');
  expect(snap).toMatchObject({ VolumeId: volumeId, Description: 'nightly backup', OwnerId: '123456789012', VolumeSize: 1 });
  expect(snap.StartTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/); // the CLI prints the wire string
  await curlPut(volumeId, 4096, after);

  await ec2('wait', 'snapshot-completed', '--snapshot-ids', snap.SnapshotId as string);
  const described = (await ec2('describe-snapshots', '--owner-ids', 'self', '--filters', `Name=volume-id,Values=${volumeId}`)) as { Snapshots: Array<Record<string, unknown>> };
  expect(described.Snapshots).toEqual([expect.objectContaining({ SnapshotId: snap.SnapshotId, State: 'completed', Progress: '100%' })]);

  const restored = await ec2('create-volume', '--availability-zone', 'us-east-1a', '--snapshot-id', snap.SnapshotId as string);
  const out = join(server.dir, 'restored.bin');
  await run(curl!, ['-sS', '--fail-with-body', '-o', out, `${server.endpoint}/data/volumes/${restored.VolumeId as string}?offset=4096&length=${1024 * 1024 + 333}`]);
  expect(readFileSync(out).equals(readFileSync(before)), `seed ${seed}`).toBe(true);

  // And the CLI's error path: exit status 255 and EC2's message.
  const failed = await run(aws!, ['ec2', 'describe-volumes', '--volume-ids', 'vol-0123456789abcdef0', '--endpoint-url', server.endpoint], { env }).catch((e: { code: number; stderr: string }) => e);
  expect((failed as { code: number }).code).toBe(255);
  expect((failed as { stderr: string }).stderr).toContain("An error occurred (InvalidVolume.NotFound) when calling the DescribeVolumes operation: The volume 'vol-0123456789abcdef0' does not exist.");
});
