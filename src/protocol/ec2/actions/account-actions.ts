import type { ActionTable } from './handler.js';
import { page } from './handler.js';

export const ACCOUNT_ACTIONS = {
  CreateTags: async (sim, ctx, i) => {
    await sim.createTags(ctx, { resources: i.Resources, tags: i.Tags });
    return {};
  },

  DeleteTags: async (sim, ctx, i) => {
    await sim.deleteTags(ctx, { resources: i.Resources, tags: i.Tags });
    return {};
  },

  DescribeTags: (sim, ctx, i) => {
    const p = sim.describeTags(ctx, { filters: i.Filters, ...page(i) });
    return { Tags: p.items.map((t) => ({ ResourceId: t.resourceId, ResourceType: t.resourceType, Key: t.key, Value: t.value })), NextToken: p.nextToken };
  },

  DescribeRegions: (sim, ctx, i) => ({
    Regions: sim.describeRegions(ctx, { regionNames: i.RegionNames, filters: i.Filters })
      .map((r) => ({ RegionName: r.regionName, Endpoint: r.endpoint, OptInStatus: r.optInStatus })),
  }),

  DescribeAvailabilityZones: (sim, ctx, i) => ({
    AvailabilityZones: sim.describeAvailabilityZones(ctx, { zoneNames: i.ZoneNames, zoneIds: i.ZoneIds, filters: i.Filters }).map((z) => ({
      ZoneName: z.zoneName, ZoneId: z.zoneId, RegionName: z.regionName, State: z.state, OptInStatus: z.optInStatus,
      ZoneType: z.zoneType, GroupName: z.groupName, NetworkBorderGroup: z.networkBorderGroup, Messages: [],
    })),
  }),

  // Some tools call this at start-up; these are the values of an account with no default VPC.
  DescribeAccountAttributes: (_sim, _ctx, i) => {
    const all = { 'supported-platforms': ['VPC'], 'default-vpc': ['none'] } as const;
    const names = i.AttributeNames?.length ? i.AttributeNames : (Object.keys(all) as Array<keyof typeof all>);
    return { AccountAttributes: names.map((n) => ({ AttributeName: n, AttributeValues: all[n].map((v) => ({ AttributeValue: v })) })) };
  },

  GetEbsEncryptionByDefault: (sim, ctx) => ({ EbsEncryptionByDefault: sim.getEbsEncryptionByDefault(ctx), SseType: 'none' }),
  EnableEbsEncryptionByDefault: async (sim, ctx) => ({ EbsEncryptionByDefault: await sim.setEbsEncryptionByDefault(ctx, true) }),
  DisableEbsEncryptionByDefault: async (sim, ctx) => ({ EbsEncryptionByDefault: await sim.setEbsEncryptionByDefault(ctx, false) }),
  GetEbsDefaultKmsKeyId: (sim, ctx) => ({ KmsKeyId: sim.getEbsDefaultKmsKeyId(ctx) }),
  ModifyEbsDefaultKmsKeyId: async (sim, ctx, i) => ({ KmsKeyId: await sim.setEbsDefaultKmsKeyId(ctx, i.KmsKeyId) }),
  ResetEbsDefaultKmsKeyId: async (sim, ctx) => ({ KmsKeyId: await sim.setEbsDefaultKmsKeyId(ctx, undefined) }),
} satisfies ActionTable;

