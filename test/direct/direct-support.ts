/** What the direct-API tests share: a client for a test server, a block put, and an error check. */
import { createHash } from 'node:crypto';
import { EBSClient, PutSnapshotBlockCommand } from '@aws-sdk/client-ebs';
import { expect } from 'vitest';

export const BLOCK = 512 * 1024;

export function ebsClient(endpoint: string, creds: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: 'test', secretAccessKey: 'test' }, region = 'us-east-1'): EBSClient {
  return new EBSClient({ region, endpoint, credentials: creds, maxAttempts: 1 });
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('base64');

/** One whole block, with its checksum. */
export async function putBlock(ebs: EBSClient, snapshotId: string, index: number, data: Buffer): Promise<void> {
  await ebs.send(new PutSnapshotBlockCommand({
    SnapshotId: snapshotId, BlockIndex: index, BlockData: data, DataLength: data.length,
    Checksum: sha256(data), ChecksumAlgorithm: 'SHA256',
  }));
}

/** The call fails with the SDK's exception class `name` (and `Reason`, when given); returns its message. */
export async function expectEbsError(call: Promise<unknown>, name: string, reason?: string): Promise<string> {
  const err = await call.then(
    () => { throw new Error(`expected ${name}${reason ? ` (${reason})` : ''}, but the call succeeded`); },
    (e: unknown) => e as { name: string; Reason?: string; message: string; $metadata?: { httpStatusCode?: number } },
  );
  expect({ name: err.name, reason: err.Reason }, err.message).toEqual({ name, reason });
  expect(err.message.length).toBeGreaterThan(10);
  return err.message;
}
