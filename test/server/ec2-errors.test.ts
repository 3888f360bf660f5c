/**
 * Every bad-input answer, through the JS SDK where the SDK can send the request, and
 * as raw HTTP where no SDK would (a missing Action, a bad encoding, an unknown parameter).
 */
import {
  CreateSnapshotCommand, CreateTagsCommand, CreateVolumeCommand, DeleteSnapshotCommand, DeleteVolumeCommand,
  DescribeImagesCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, DescribeVolumeStatusCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Error, rawEc2, xmlCode } from '../support/ec2-error.js';
import { putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

let s: SimServer;
let ec2: EC2Client;
const newVolume = async (over: Record<string, unknown> = {}) =>
  (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1, VolumeType: 'gp3', ...over }))).VolumeId!;

beforeAll(async () => {
  s = await startSimServer();
  ec2 = s.client();
});
afterAll(() => s.close());

describe('EC2 errors through @aws-sdk/client-ec2', () => {
  it('MissingParameter, InvalidParameterValue, InvalidParameterCombination', async () => {
    let e = await ec2Error(ec2.send(new CreateVolumeCommand({ Size: 1 })));
    expect([e.name, e.$metadata.httpStatusCode, e.message]).toEqual(['MissingParameter', 400, 'The request must contain the parameter AvailabilityZone']);
    e = await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a' })));
    expect(e.name).toBe('MissingParameter');
    e = await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 20000, VolumeType: 'gp2' })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['InvalidParameterValue', 400]);
    e = await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', Size: 1 })));
    expect(e.name).toBe('InvalidParameterValue');
    expect(e.message).toMatch(/Invalid availability zone: \[eu-west-1a\]/);
    e = await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'gp2', Iops: 300 })));
    expect(e.name).toBe('InvalidParameterCombination');
    const v = await newVolume();
    e = await ec2Error(ec2.send(new CreateSnapshotCommand({ VolumeId: v, Description: 'x'.repeat(256) })));
    expect(e.name).toBe('InvalidParameterValue');
    await ec2.send(new CreateSnapshotCommand({ VolumeId: v, Description: 'é'.repeat(255) })); // 255 characters is fine
    e = await ec2Error(ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'bogus-filter', Values: ['x'] }] })));
    expect([e.name, e.message]).toEqual(['InvalidParameterValue', expect.stringContaining("'bogus-filter'")]);
  });

  it('InvalidVolumeID.Malformed, InvalidSnapshotID.Malformed, InvalidVolume.NotFound, InvalidSnapshot.NotFound', async () => {
    let e = await ec2Error(ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-xyz'] })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['InvalidVolumeID.Malformed', 400]);
    e = await ec2Error(ec2.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-nope' })));
    expect(e.name).toBe('InvalidSnapshotID.Malformed');
    e = await ec2Error(ec2.send(new DeleteVolumeCommand({ VolumeId: 'vol-0123456789abcdef0' })));
    expect([e.name, e.message]).toEqual(['InvalidVolume.NotFound', "The volume 'vol-0123456789abcdef0' does not exist."]);
    expect(e.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    e = await ec2Error(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-0123456789abcdef0'] })));
    expect([e.name, e.message]).toEqual(['InvalidSnapshot.NotFound', "The snapshot 'snap-0123456789abcdef0' does not exist."]);
  });

  it('refuses a tag that XML cannot carry (a NUL in its key), instead of dropping the character', async () => {
    const v = await newVolume();
    for (const tag of [{ Key: 'a\u0000b', Value: 'v' }, { Key: 'k', Value: 'bell\u0007' }]) {
      const e = await ec2Error(ec2.send(new CreateTagsCommand({ Resources: [v], Tags: [tag] })));
      expect([e.name, e.message]).toEqual(['InvalidParameterValue', expect.stringMatching(/control character/)]);
    }
    await ec2.send(new CreateTagsCommand({ Resources: [v], Tags: [{ Key: 'tab\there', Value: 'line\nbreak é😀' }] }));
    const tags = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] }))).Volumes![0]!.Tags;
    expect(tags).toEqual([{ Key: 'tab\there', Value: 'line\nbreak é😀' }]);
  });

  it('DryRunOperation is 412 and changes nothing', async () => {
    const v = await newVolume();
    let e = await ec2Error(ec2.send(new DeleteVolumeCommand({ VolumeId: v, DryRun: true })));
    expect([e.name, e.$metadata.httpStatusCode, e.message]).toEqual(['DryRunOperation', 412, 'Request would have succeeded, but DryRun flag is set.']);
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] }))).Volumes?.[0]?.State).toBe('available');
    const before = (await ec2.send(new DescribeVolumesCommand({}))).Volumes!.length;
    e = await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1, DryRun: true })));
    expect(e.name).toBe('DryRunOperation');
    e = await ec2Error(ec2.send(new CreateSnapshotCommand({ VolumeId: v, DryRun: true })));
    expect(e.name).toBe('DryRunOperation');
    e = await ec2Error(ec2.send(new DescribeVolumesCommand({ DryRun: true })));
    expect(e.name).toBe('DryRunOperation');
    expect((await ec2.send(new DescribeVolumesCommand({}))).Volumes!.length).toBe(before);
    expect((await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'volume-id', Values: [v] }] }))).Snapshots).toEqual([]);
    // A DryRun of a request that would fail answers the failure, not DryRunOperation.
    e = await ec2Error(ec2.send(new DeleteVolumeCommand({ VolumeId: 'vol-0123456789abcdef0', DryRun: true })));
    expect(e.name).toBe('InvalidVolume.NotFound');
  });

  it('InvalidAction for actions outside the model, UnsupportedOperation for modelled ones not served yet', async () => {
    let e = await ec2Error(ec2.send(new DescribeImagesCommand({})));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['InvalidAction', 400]);
    e = await ec2Error(ec2.send(new DescribeVolumeStatusCommand({})));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['UnsupportedOperation', 400]);
  });

  it('IdempotentParameterMismatch, and a replayed ClientToken returns the same volume', async () => {
    const first = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 2, ClientToken: 'tok-errors-1' }));
    const again = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 2, ClientToken: 'tok-errors-1' }));
    expect(again.VolumeId).toBe(first.VolumeId);
    const e = await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 3, ClientToken: 'tok-errors-1' })));
    expect(e.name).toBe('IdempotentParameterMismatch');
  });

  it('InvalidPaginationToken', async () => {
    const e = await ec2Error(ec2.send(new DescribeVolumesCommand({ MaxResults: 5, NextToken: 'not-a-token' })));
    expect(e.name).toBe('InvalidPaginationToken');
  });

  it('VolumeInUse when the catalog says the volume is attached', async () => {
    const v = await newVolume();
    const meta = s.sim.catalog.getVolume(v)!;
    s.sim.catalog.setVolume({ ...meta, attachments: [{ instanceId: 'i-0123456789abcdef0', device: '/dev/sdf', state: 'attached', attachTime: new Date().toISOString(), deleteOnTermination: false }] });
    const described = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] }))).Volumes![0]!;
    expect(described.State).toBe('in-use');
    expect(described.Attachments?.[0]).toMatchObject({ InstanceId: 'i-0123456789abcdef0', State: 'attached', VolumeId: v });
    const e = await ec2Error(ec2.send(new DeleteVolumeCommand({ VolumeId: v })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['VolumeInUse', 400]);
    s.sim.catalog.setVolume(meta);
  });

  it('ConcurrentSnapshotLimitExceeded: one pending snapshot on st1, five on gp3', async () => {
    s.sim.controls.setCopyRate(1024); // uploads crawl: snapshots stay pending
    const taken: string[] = [];
    const snap = async (volumeId: string) => {
      const r = await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }));
      taken.push(r.SnapshotId!);
      return r;
    };
    try {
      const st1 = await newVolume({ VolumeType: 'st1', Size: 125 });
      await putBytes(s.endpoint, st1, 0, Buffer.alloc(4096, 1));
      expect((await snap(st1)).State).toBe('pending');
      let e = await ec2Error(ec2.send(new CreateSnapshotCommand({ VolumeId: st1 })));
      expect([e.name, e.$metadata.httpStatusCode]).toEqual(['ConcurrentSnapshotLimitExceeded', 400]);

      const gp3 = await newVolume();
      await putBytes(s.endpoint, gp3, 0, Buffer.alloc(4096, 2));
      for (let i = 0; i < 5; i++) await snap(gp3);
      e = await ec2Error(ec2.send(new CreateSnapshotCommand({ VolumeId: gp3 })));
      expect(e.name).toBe('ConcurrentSnapshotLimitExceeded');
    } finally {
      s.sim.controls.setCopyRate(undefined);
      // CopyEngine.close() cannot stop a copy that waits for its pending parent: let them finish.
      await Promise.all(taken.map((id) => s.sim.engine.statuses.settled(id)));
    }
  });

  it('answers an oversized body with a clear limit', async () => {
    const v = await newVolume();
    const e = await ec2Error(ec2.send(new CreateTagsCommand({ Resources: [v], Tags: [{ Key: 'big', Value: 'x'.repeat(2 * 1024 * 1024) }] })));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['RequestEntityTooLarge', 413]);
    expect(e.message).toMatch(/exceeds the limit of 1048576 bytes/);
  });

  it('a failure inside a handler is a 500 that is still EC2 XML', async () => {
    const volumes = s.sim.services.volumes;
    const original = volumes.describe;
    volumes.describe = () => {
      throw new TypeError('simulated bug');
    };
    try {
      const e = await ec2Error(ec2.send(new DescribeVolumesCommand({})));
      expect([e.name, e.$fault, e.$metadata.httpStatusCode, e.message]).toEqual(['InternalError', 'server', 500, 'An internal error has occurred']);
      const raw = await rawEc2(s.endpoint, 'Action=DescribeVolumes&Version=2016-11-15');
      expect(raw.status).toBe(500);
      expect(raw.text).toMatch(/^<\?xml.*<Response><Errors><Error><Code>InternalError<\/Code>.*<RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/s);
      expect(raw.text).toContain(`<RequestID>${raw.requestId}</RequestID>`);
    } finally {
      volumes.describe = original;
    }
  });
});

describe('EC2 errors no SDK would cause, as raw HTTP', () => {
  it('MissingAction, MalformedQueryString, UnknownParameter, InvalidAction', async () => {
    const cases: Array<[string, string]> = [
      ['Version=2016-11-15&VolumeId.1=vol-0123456789abcdef0', 'MissingAction'],
      ['Action=DescribeVolumes&Version=2016-11-15&VolumeId.1=%zz', 'MalformedQueryString'],
      ['Action=DescribeVolumes&Version=2016-11-15&Bogus=1', 'UnknownParameter'],
      ['Action=NoSuchThing&Version=2016-11-15', 'InvalidAction'],
      ['Action=CreateVolume&Version=2016-11-15&Size=big', 'InvalidParameterValue'],
      ['Action=DeleteVolume&Version=2016-11-15', 'MissingParameter'],
    ];
    for (const [body, code] of cases) {
      const r = await rawEc2(s.endpoint, body);
      expect([r.status, xmlCode(r.text)], body).toEqual([400, code]);
      expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('serves GET with a query string too', async () => {
    const res = await fetch(`${s.endpoint}/?Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<regionName>eu-west-1</regionName>');
  });
});
