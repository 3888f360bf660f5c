/**
 * The EBS direct APIs with the AWS CLI (`aws ebs … --endpoint-url`) against `ebs-sim serve`:
 * write a snapshot block by block, wait for it in EC2, then list and fetch its blocks, as the
 * README shows. A wrong checksum comes back as the CLI prints a ValidationException.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findOnPath } from '../support/moto-server.js';
import { startCliServer, type CliServer } from '../support/cli-server.js';

const run = promisify(execFile);
const aws = findOnPath('aws');
const BLOCK = 512 * 1024;

let server: CliServer;
beforeAll(async () => {
  if (aws) server = await startCliServer();
});
afterAll(async () => {
  if (server) expect((await server.stop()).code).toBe(0);
});

const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '',
  AWS_CONFIG_FILE: '/nonexistent/ebs-sim-test', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ebs-sim-test', AWS_EC2_METADATA_DISABLED: 'true',
};

async function cli(service: 'ebs' | 'ec2', ...args: string[]): Promise<Record<string, any>> {
  const { stdout } = await run(aws!, [service, ...args, '--endpoint-url', server.endpoint, '--output', 'json'], { env });
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>);
}

const b64sha = (data: Buffer) => createHash('sha256').update(data).digest('base64');

// Skipped only where the AWS CLI is not installed (CI installs it).
it.skipIf(!aws)('start-snapshot, put-snapshot-block, complete-snapshot, list-snapshot-blocks, get-snapshot-block', async () => {
  const started = await cli('ebs', 'start-snapshot', '--volume-size', '1', '--description', 'from the cli', '--timeout', '10');
  expect(started).toMatchObject({ Status: 'pending', VolumeSize: 1, BlockSize: BLOCK, OwnerId: '123456789012', Description: 'from the cli' });
  const id = started.SnapshotId as string;

  const blocks = new Map([[0, randomBytes(BLOCK)], [9, randomBytes(BLOCK)]]);
  for (const [index, data] of blocks) {
    const file = join(server.dir, `block-${index}.bin`);
    writeFileSync(file, data);
    const put = await cli('ebs', 'put-snapshot-block', '--snapshot-id', id, '--block-index', String(index), '--block-data', file,
      '--data-length', String(BLOCK), '--checksum', b64sha(data), '--checksum-algorithm', 'SHA256');
    expect(put).toEqual({ Checksum: b64sha(data), ChecksumAlgorithm: 'SHA256' });
  }
  const wrong = join(server.dir, 'wrong.bin');
  writeFileSync(wrong, randomBytes(BLOCK));
  const refused = await run(aws!, ['ebs', 'put-snapshot-block', '--snapshot-id', id, '--block-index', '1', '--block-data', wrong,
    '--data-length', String(BLOCK), '--checksum', b64sha(randomBytes(8)), '--checksum-algorithm', 'SHA256', '--endpoint-url', server.endpoint], { env })
    .then(() => undefined, (e: { code: number; stderr: string }) => e);
  expect(refused?.code).not.toBe(0);
  expect(refused?.stderr).toMatch(/ValidationException/);

  expect(await cli('ebs', 'complete-snapshot', '--snapshot-id', id, '--changed-blocks-count', '2')).toEqual({ Status: 'pending' });
  await run(aws!, ['ec2', 'wait', 'snapshot-completed', '--snapshot-ids', id, '--endpoint-url', server.endpoint], { env });

  const listed = await cli('ebs', 'list-snapshot-blocks', '--snapshot-id', id);
  expect(listed).toMatchObject({ VolumeSize: 1, BlockSize: BLOCK });
  expect((listed.Blocks as { BlockIndex: number }[]).map((b) => b.BlockIndex)).toEqual([0, 9]);
  for (const { BlockIndex, BlockToken } of listed.Blocks as { BlockIndex: number; BlockToken: string }[]) {
    const out = join(server.dir, `got-${BlockIndex}.bin`);
    const got = await cli('ebs', 'get-snapshot-block', '--snapshot-id', id, '--block-index', String(BlockIndex), '--block-token', BlockToken, out);
    expect(got).toMatchObject({ DataLength: BLOCK, Checksum: b64sha(blocks.get(BlockIndex)!), ChecksumAlgorithm: 'SHA256' });
    expect(readFileSync(out).equals(blocks.get(BlockIndex)!)).toBe(true);
  }
});
