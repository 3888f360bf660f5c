/** `--auth sigv4`: accounts from a credentials file, isolation between them, sharing, and every auth failure. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateSnapshotCommand, CreateTagsCommand, CreateVolumeCommand, DeleteSnapshotCommand, DeleteVolumeCommand,
  DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client, ModifySnapshotAttributeCommand, waitUntilSnapshotCompleted,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCredentialsFile } from '../../src/server/auth.js';
import { ec2Error, xmlCode } from '../support/ec2-error.js';
import { signRequest, send, type Key } from '../support/signed-fetch.js';
import { startSimServer, type SimServer } from '../support/sim-server.js';
import { tempDir } from '../support/temp-dir.js';

const A: Key & { account: string } = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice/secret+1', account: '111111111111' };
const B: Key & { account: string } = { accessKeyId: 'AKIABOB', secretAccessKey: 'bob-secret', account: '222222222222' };
const C: Key & { account: string } = { accessKeyId: 'AKIACAROL', secretAccessKey: 'carol-secret', account: '333333333333' };

let s: SimServer;
let tmp: ReturnType<typeof tempDir>;
let alice: EC2Client;
let bob: EC2Client;
let carol: EC2Client;

beforeAll(async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'credentials.json');
  writeFileSync(file, JSON.stringify({ credentials: [A, B, C].map((k) => ({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, accountId: k.account })) }));
  s = await startSimServer({ app: { auth: 'sigv4', credentials: loadCredentialsFile(file) } });
  alice = s.client(A);
  bob = s.client(B);
  carol = s.client(C);
});
afterAll(async () => {
  await s.close();
  tmp.remove();
});

const dataUrl = (v: string, q: string) => `${s.endpoint}/data/volumes/${v}?${q}`;

describe('--auth sigv4', () => {
  it('keeps accounts apart: volumes, snapshots and the data plane', async () => {
    const v = (await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    expect((await bob.send(new DescribeVolumesCommand({}))).Volumes).toEqual([]);
    expect((await ec2Error(bob.send(new DescribeVolumesCommand({ VolumeIds: [v] })))).name).toBe('InvalidVolume.NotFound');
    expect((await ec2Error(bob.send(new DeleteVolumeCommand({ VolumeId: v })))).name).toBe('InvalidVolume.NotFound');
    expect((await ec2Error(bob.send(new CreateSnapshotCommand({ VolumeId: v })))).name).toBe('InvalidVolume.NotFound');

    // The data plane: signed with UNSIGNED-PAYLOAD, and only by the owner.
    const put = (key: Key) => signRequest(key, { method: 'PUT', url: dataUrl(v, 'offset=0'), headers: {}, body: Buffer.from('alice data') }, { unsignedPayload: true });
    expect((await send(await put(A))).status).toBe(200);
    const bobPut = await send(await put(B));
    expect([bobPut.status, ((await bobPut.json()) as { code: string }).code]).toEqual([404, 'VOLUME_NOT_FOUND']);
    const unsigned = await fetch(dataUrl(v, 'offset=0'), { method: 'PUT', body: 'x' });
    expect([unsigned.status, ((await unsigned.json()) as { code: string }).code]).toEqual([403, 'MissingAuthenticationToken']);
    const hashed = await send(await signRequest(A, { method: 'PUT', url: dataUrl(v, 'offset=0'), headers: {}, body: Buffer.from('x') }));
    expect([hashed.status, ((await hashed.json()) as { code: string }).code]).toEqual([400, 'INVALID_SIGNATURE']);
    const get = await send(await signRequest(A, { method: 'GET', url: dataUrl(v, 'offset=0&length=10'), headers: {} }));
    expect([get.status, Buffer.from(await get.arrayBuffer()).toString()]).toEqual([200, 'alice data']);

    const snap = (await alice.send(new CreateSnapshotCommand({ VolumeId: v, TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'who', Value: 'alice' }] }] }))).SnapshotId!;
    await waitUntilSnapshotCompleted({ client: alice, maxWaitTime: 20, minDelay: 0.2, maxDelay: 0.5 }, { SnapshotIds: [snap] });
    expect((await bob.send(new DescribeSnapshotsCommand({}))).Snapshots).toEqual([]);
    expect((await ec2Error(bob.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] })))).name).toBe('InvalidSnapshot.NotFound');
    expect((await ec2Error(bob.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap })))).name).toBe('InvalidSnapshot.NotFound');

    // Shared with bob: bob sees it (without alice's tags), restores it, cannot delete or tag it.
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: snap, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [B.account] }));
    const seen = (await bob.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ['self'] }))).Snapshots!;
    expect(seen.map((x) => [x.SnapshotId, x.OwnerId, x.Tags])).toEqual([[snap, A.account, []]]);
    expect((await bob.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots).toEqual([]);
    expect((await bob.send(new DescribeSnapshotsCommand({ OwnerIds: [A.account] }))).Snapshots!.map((x) => x.SnapshotId)).toEqual([snap]);
    const bobsCopy = (await bob.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap }))).VolumeId!;
    const read = await send(await signRequest(B, { method: 'GET', url: dataUrl(bobsCopy, 'offset=0&length=10'), headers: {} }));
    expect(Buffer.from(await read.arrayBuffer()).toString()).toBe('alice data');
    let e = await ec2Error(bob.send(new DeleteSnapshotCommand({ SnapshotId: snap })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['UnauthorizedOperation', 403]);
    e = await ec2Error(bob.send(new CreateTagsCommand({ Resources: [snap], Tags: [{ Key: 'k', Value: 'v' }] })));
    expect(e.name).toBe('UnauthorizedOperation');
    expect((await carol.send(new DescribeSnapshotsCommand({}))).Snapshots).toEqual([]);

    // Public: everyone sees it; unshared: bob no longer does.
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: snap, CreateVolumePermission: { Add: [{ Group: 'all' }], Remove: [{ UserId: B.account }] } }));
    expect((await carol.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ['all'] }))).Snapshots!.map((x) => x.SnapshotId)).toEqual([snap]);
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: snap, CreateVolumePermission: { Remove: [{ Group: 'all' }] } }));
    expect((await bob.send(new DescribeSnapshotsCommand({}))).Snapshots).toEqual([]);
    // And a region is its own world, even for the owner.
    expect((await s.client({ ...A, region: 'eu-west-1' }).send(new DescribeVolumesCommand({}))).Volumes).toEqual([]);
  });

  it('rejects unknown keys, wrong secrets, tampered and unsigned requests, bad headers and stale dates', async () => {
    let e = await ec2Error(s.client({ accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' }).send(new DescribeVolumesCommand({})));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['AuthFailure', 401]);
    e = await ec2Error(s.client({ accessKeyId: A.accessKeyId, secretAccessKey: 'not-the-secret' }).send(new DescribeVolumesCommand({})));
    expect(e.name).toBe('SignatureDoesNotMatch');
    const skewed = new EC2Client({ region: 'us-east-1', endpoint: s.endpoint, credentials: A, maxAttempts: 1, systemClockOffset: -3600_000 });
    e = await ec2Error(skewed.send(new DescribeVolumesCommand({})));
    skewed.destroy();
    expect(e.name).toBe('RequestExpired');

    const body = 'Action=DescribeVolumes&Version=2016-11-15';
    const signed = await signRequest(A, { method: 'POST', url: `${s.endpoint}/`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const ok = await send(signed);
    expect(ok.status).toBe(200);
    const tampered = await send({ ...signed, body: body.replace('DescribeVolumes', 'DescribeSnapshots') });
    expect([tampered.status, xmlCode(await tampered.text())]).toEqual([403, 'SignatureDoesNotMatch']);
    const unsigned = await fetch(`${s.endpoint}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect([unsigned.status, xmlCode(await unsigned.text())]).toEqual([403, 'MissingAuthenticationToken']);
    const garbled = await send({ ...signed, headers: { ...signed.headers, authorization: 'AWS4-HMAC-SHA256 Credential=AKIAALICE/20260101/us-east-1/ec2/aws4_request' } });
    expect([garbled.status, xmlCode(await garbled.text())]).toEqual([400, 'IncompleteSignature']);
  });
});

describe('credentials file', () => {
  it('explains what is wrong with a bad one', () => {
    const t = tempDir();
    try {
      const write = (content: unknown) => {
        const f = join(t.dir, 'c.json');
        writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
        return f;
      };
      expect(() => loadCredentialsFile(write('{not json'))).toThrow(/cannot read credentials file/);
      expect(() => loadCredentialsFile(write({ credentials: [] }))).toThrow(/at least one entry/);
      expect(() => loadCredentialsFile(write({ credentials: [{ accessKeyId: 'A', secretAccessKey: 's', accountId: '12' }] }))).toThrow(/accountId must be 12 digits/);
      expect(() => loadCredentialsFile(join(t.dir, 'missing.json'))).toThrow(/cannot read/);
    } finally {
      t.remove();
    }
  });
});
