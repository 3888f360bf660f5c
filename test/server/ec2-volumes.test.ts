/** Volumes, tags, regions, zones and account settings through @aws-sdk/client-ec2. */
import {
  CreateTagsCommand, CreateVolumeCommand, DeleteTagsCommand, DeleteVolumeCommand, DescribeAvailabilityZonesCommand,
  DescribeRegionsCommand, DescribeTagsCommand, DescribeVolumesCommand, DescribeVolumesModificationsCommand,
  DisableEbsEncryptionByDefaultCommand, EnableEbsEncryptionByDefaultCommand, GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand, ModifyEbsDefaultKmsKeyIdCommand, ModifyVolumeCommand, ResetEbsDefaultKmsKeyIdCommand,
  waitUntilVolumeAvailable, waitUntilVolumeDeleted, type EC2Client, type Volume,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Error } from '../support/ec2-error.js';
import { putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

let s: SimServer;
let ec2: EC2Client;
const create = async (over: Record<string, unknown> = {}): Promise<Volume> =>
  ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1, ...over }));

beforeAll(async () => {
  // Windows long enough for a loaded CI machine to observe the intermediate states.
  s = await startSimServer({ sim: { volumeCreateDelayMs: 600, modificationMs: 1000 } });
  ec2 = s.client();
});
afterAll(() => s.close());

describe('volumes', () => {
  it('CreateVolume answers `creating` with every field; the volume becomes available', async () => {
    const v = await create({
      AvailabilityZone: 'us-east-1b', Size: 8, VolumeType: 'gp3', Iops: 4000, Throughput: 250,
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'data 1 & more' }] }],
    });
    expect(v).toMatchObject({
      State: 'creating', Size: 8, AvailabilityZone: 'us-east-1b', AvailabilityZoneId: 'use1-az2', VolumeType: 'gp3', Iops: 4000,
      Throughput: 250, Encrypted: false, MultiAttachEnabled: false, SnapshotId: '', Attachments: [],
      Tags: [{ Key: 'Name', Value: 'data 1 & more' }],
    });
    expect(v.VolumeId).toMatch(/^vol-[0-9a-f]{17}$/);
    expect(Math.abs(v.CreateTime!.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v.VolumeId!] }))).Volumes?.[0]?.State).toBe('creating');
    await waitUntilVolumeAvailable({ client: ec2, maxWaitTime: 10, minDelay: 0.2, maxDelay: 0.5 }, { VolumeIds: [v.VolumeId!] });
    const gp2 = await create({ Size: 100 });
    expect([gp2.VolumeType, gp2.Iops, gp2.Throughput]).toEqual(['gp2', 300, undefined]);
  });

  it('DeleteVolume shows `deleting`, then InvalidVolume.NotFound (the volume_deleted waiter)', async () => {
    const v = (await create()).VolumeId!;
    await waitUntilVolumeAvailable({ client: ec2, maxWaitTime: 10, minDelay: 0.2, maxDelay: 0.5 }, { VolumeIds: [v] });
    await putBytes(s.endpoint, v, 0, Buffer.alloc(1 << 20, 3));
    await ec2.send(new DeleteVolumeCommand({ VolumeId: v }));
    await waitUntilVolumeDeleted({ client: ec2, maxWaitTime: 10, minDelay: 0.2, maxDelay: 0.5 }, { VolumeIds: [v] });
    expect((await ec2Error(ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] })))).name).toBe('InvalidVolume.NotFound');
    expect(() => s.sim.store.getVolume(v)).toThrow(/does not exist/);
  });

  it('DescribeVolumes filters (ANDed, values ORed, wildcards, tags) and pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const v = await create({ Size: 10 + i, VolumeType: i % 2 ? 'gp3' : 'io2', Iops: i % 2 ? undefined : 1000,
        TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'batch', Value: `filters-${i % 3}` }] }] });
      ids.push(v.VolumeId!);
    }
    const find = async (Filters: Array<{ Name: string; Values: string[] }>) =>
      ((await ec2.send(new DescribeVolumesCommand({ Filters }))).Volumes ?? []).map((v) => v.VolumeId).sort();
    expect(await find([{ Name: 'tag-key', Values: ['batch'] }])).toEqual([...ids].sort());
    expect(await find([{ Name: 'tag:batch', Values: ['filters-0'] }])).toEqual([ids[0], ids[3], ids[6]].sort());
    expect(await find([{ Name: 'tag:batch', Values: ['filters-*'] }, { Name: 'volume-type', Values: ['io2'] }])).toEqual([ids[0], ids[2], ids[4], ids[6]].sort());
    expect(await find([{ Name: 'size', Values: ['10', '11'] }, { Name: 'tag-key', Values: ['batch'] }])).toEqual([ids[0], ids[1]].sort());
    expect(await find([{ Name: 'volume-id', Values: [ids[5]!, 'vol-0123456789abcdef0'] }])).toEqual([ids[5]]);
    expect(await find([{ Name: 'availability-zone', Values: ['us-east-1a'] }, { Name: 'status', Values: ['available', 'creating'] }, { Name: 'tag-key', Values: ['batch'] }])).toHaveLength(7);

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeVolumesCommand({ MaxResults: 5, NextToken: token, Filters: [{ Name: 'tag-key', Values: ['batch'] }] }));
      expect(page.Volumes!.length).toBeLessThanOrEqual(5);
      seen.push(...page.Volumes!.map((v) => v.VolumeId!));
      token = page.NextToken;
    } while (token);
    expect(seen).toEqual(ids); // creation order, each once
  });

  it('keeps state per region: zones of the region, nothing of the others', async () => {
    const eu = s.client({ region: 'eu-west-1' });
    const v = await eu.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1c', Size: 1 }));
    expect(v.AvailabilityZoneId).toBe('euw1-az3');
    expect((await eu.send(new DescribeVolumesCommand({}))).Volumes!.map((x) => x.VolumeId)).toEqual([v.VolumeId]);
    expect((await ec2Error(ec2.send(new DescribeVolumesCommand({ VolumeIds: [v.VolumeId!] })))).name).toBe('InvalidVolume.NotFound');
    expect((await ec2Error(eu.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 })))).name).toBe('InvalidParameterValue');
    const zones = await eu.send(new DescribeAvailabilityZonesCommand({}));
    expect(zones.AvailabilityZones!.map((z) => [z.ZoneName, z.ZoneId, z.State, z.RegionName])).toEqual([
      ['eu-west-1a', 'euw1-az1', 'available', 'eu-west-1'], ['eu-west-1b', 'euw1-az2', 'available', 'eu-west-1'], ['eu-west-1c', 'euw1-az3', 'available', 'eu-west-1'],
    ]);
    const filtered = await ec2.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'zone-name', Values: ['*b'] }] }));
    expect(filtered.AvailabilityZones!.map((z) => z.ZoneName)).toEqual(['us-east-1b']);
    expect((await ec2Error(ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['eu-west-1a'] })))).name).toBe('InvalidParameterValue');
    const regions = await ec2.send(new DescribeRegionsCommand({}));
    expect(regions.Regions!.map((r) => r.RegionName)).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1', 'ap-southeast-2']));
    expect(regions.Regions!.find((r) => r.RegionName === 'eu-west-1')).toMatchObject({ Endpoint: 'ec2.eu-west-1.amazonaws.com', OptInStatus: 'opt-in-not-required' });
    const one = await ec2.send(new DescribeRegionsCommand({ Filters: [{ Name: 'region-name', Values: ['us-west-*'] }] }));
    expect(one.Regions!.map((r) => r.RegionName)).toEqual(['us-west-1', 'us-west-2']);
  });

  it('ModifyVolume changes type, IOPS and throughput; modifications go modifying → completed', async () => {
    const v = (await create({ Size: 100 })).VolumeId!;
    await waitUntilVolumeAvailable({ client: ec2, maxWaitTime: 10, minDelay: 0.2, maxDelay: 0.5 }, { VolumeIds: [v] });
    const m = (await ec2.send(new ModifyVolumeCommand({ VolumeId: v, VolumeType: 'gp3', Iops: 6000, Throughput: 500 }))).VolumeModification!;
    expect(m).toMatchObject({ VolumeId: v, ModificationState: 'modifying', OriginalVolumeType: 'gp2', TargetVolumeType: 'gp3', TargetIops: 6000, OriginalIops: 300, TargetThroughput: 500, OriginalSize: 100, TargetSize: 100 });
    expect((await ec2Error(ec2.send(new ModifyVolumeCommand({ VolumeId: v, Iops: 7000 })))).name).toBe('IncorrectModificationState');
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] }))).Volumes![0]).toMatchObject({ VolumeType: 'gp3', Iops: 6000, Throughput: 500 });
    await s.sim.controls.advanceClock(1.05); // the modification's second passes on the simulated clock
    const mods = await ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [v] }));
    expect(mods.VolumesModifications).toEqual([expect.objectContaining({ ModificationState: 'completed', Progress: 100, EndTime: expect.any(Date) })]);
    const byFilter = await ec2.send(new DescribeVolumesModificationsCommand({ Filters: [{ Name: 'target-volume-type', Values: ['gp3'] }, { Name: 'volume-id', Values: [v] }] }));
    expect(byFilter.VolumesModifications).toHaveLength(1);
    expect((await ec2Error(ec2.send(new ModifyVolumeCommand({ VolumeId: v, Size: 50 })))).name).toBe('InvalidParameterValue');
    expect((await ec2Error(ec2.send(new ModifyVolumeCommand({ VolumeId: v, VolumeType: 'gp3' })))).name).toBe('InvalidParameterValue');
  });

  it('ModifyVolume grows a volume, and the data plane reaches the new bytes', async () => {
    const v = (await create({ Size: 1 })).VolumeId!;
    await waitUntilVolumeAvailable({ client: ec2, maxWaitTime: 10, minDelay: 0.2, maxDelay: 0.5 }, { VolumeIds: [v] });
    expect((await putBytes(s.endpoint, v, 2 * 1024 ** 3 - 4096, Buffer.alloc(4096, 5))).status).toBe(416); // past the end
    await ec2.send(new ModifyVolumeCommand({ VolumeId: v, Size: 2 }));
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] }))).Volumes![0]!.Size).toBe(2);
    expect(s.sim.store.getVolume(v).size).toBe(2 * 1024 ** 3);
    expect((await putBytes(s.endpoint, v, 2 * 1024 ** 3 - 4096, Buffer.alloc(4096, 5))).status).toBe(200);
    expect((await s.sim.store.read(v, 2 * 1024 ** 3 - 4096, 4096)).equals(Buffer.alloc(4096, 5))).toBe(true);
  });
});

describe('tags', () => {
  it('CreateTags, DescribeTags with filters and pages, DeleteTags by key or key and value', async () => {
    const a = (await create()).VolumeId!;
    const b = (await create()).VolumeId!;
    await ec2.send(new CreateTagsCommand({ Resources: [a, b], Tags: [{ Key: 'team', Value: 'storage' }, { Key: 'env', Value: 'dev' }, { Key: 'empty', Value: '' }] }));
    await ec2.send(new CreateTagsCommand({ Resources: [b], Tags: [{ Key: 'env', Value: 'prod' }] }));
    const rows = async (Filters: Array<{ Name: string; Values: string[] }>) =>
      ((await ec2.send(new DescribeTagsCommand({ Filters }))).Tags ?? []).map((t) => `${t.ResourceId === a ? 'a' : 'b'}:${t.ResourceType}:${t.Key}=${t.Value}`);
    expect(await rows([{ Name: 'resource-id', Values: [a, b] }])).toEqual([
      'a:volume:team=storage', 'a:volume:env=dev', 'a:volume:empty=', 'b:volume:team=storage', 'b:volume:env=prod', 'b:volume:empty=',
    ]);
    expect(await rows([{ Name: 'resource-id', Values: [a, b] }, { Name: 'key', Values: ['env'] }, { Name: 'value', Values: ['prod'] }])).toEqual(['b:volume:env=prod']);
    expect(await rows([{ Name: 'resource-id', Values: [a, b] }, { Name: 'tag:env', Values: ['dev'] }])).toEqual(['a:volume:team=storage', 'a:volume:env=dev', 'a:volume:empty=']);

    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeTagsCommand({ MaxResults: 5, NextToken: token, Filters: [{ Name: 'resource-id', Values: [a, b] }] }));
      paged.push(...page.Tags!.map((t) => `${t.ResourceId}:${t.Key}`));
      token = page.NextToken;
    } while (token);
    expect(paged).toHaveLength(6);
    expect(new Set(paged).size).toBe(6);

    await ec2.send(new DeleteTagsCommand({ Resources: [a, b], Tags: [{ Key: 'env', Value: 'dev' }, { Key: 'empty' }] }));
    expect(await rows([{ Name: 'resource-id', Values: [a, b] }])).toEqual(['a:volume:team=storage', 'b:volume:team=storage', 'b:volume:env=prod']);
    await ec2.send(new DeleteTagsCommand({ Resources: [b] }));
    expect(await rows([{ Name: 'resource-id', Values: [b] }])).toEqual([]);
  });

  it('checks tags: 50 per resource, reserved aws: prefix, every resource before changing any', async () => {
    const v = (await create()).VolumeId!;
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect((await ec2Error(ec2.send(new CreateTagsCommand({ Resources: [v], Tags: many })))).name).toBe('TagLimitExceeded');
    expect((await ec2Error(ec2.send(new CreateTagsCommand({ Resources: [v], Tags: [{ Key: 'aws:x', Value: 'v' }] })))).name).toBe('InvalidParameterValue');
    const e = await ec2Error(ec2.send(new CreateTagsCommand({ Resources: [v, 'vol-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] })));
    expect(e.name).toBe('InvalidVolume.NotFound');
    expect((await ec2Error(ec2.send(new CreateTagsCommand({ Resources: ['ami-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] })))).name).toBe('InvalidID');
    // Instances are taggable; an unknown one is not found.
    expect((await ec2Error(ec2.send(new CreateTagsCommand({ Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] })))).name).toBe('InvalidInstanceID.NotFound');
    // Untouched: no tags, and (as AWS answers) no tagSet at all.
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] }))).Volumes![0]!.Tags).toBeUndefined();
  });
});

describe('EBS encryption by default', () => {
  it('Enable/Get/Disable, default KMS key, and volumes that follow them', async () => {
    expect((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(false);
    expect((await ec2.send(new EnableEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(true);
    const managed = (await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId!;
    expect(managed).toMatch(/^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/);
    expect(await create()).toMatchObject({ Encrypted: true, KmsKeyId: managed });
    expect((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(true);
    // Per region.
    expect((await s.client({ region: 'eu-west-1' }).send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(false);
    const custom = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    expect((await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: custom }))).KmsKeyId).toBe(custom);
    expect((await create()).KmsKeyId).toBe(custom);
    expect((await ec2.send(new ResetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId).toBe(managed);
    expect((await ec2.send(new DisableEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(false);
    expect((await create()).Encrypted).toBe(false);
    expect(await create({ Encrypted: true, KmsKeyId: 'alias/mine' })).toMatchObject({ Encrypted: true, KmsKeyId: 'alias/mine' });
    expect((await ec2Error(create({ KmsKeyId: 'alias/mine' }))).name).toBe('InvalidParameterDependency');
  });
});
