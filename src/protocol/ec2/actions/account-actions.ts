import type { ActionTable } from './handler.js';
import { page } from './handler.js';

export const ACCOUNT_ACTIONS = {
  CreateTags: async (services, ctx, i) => {
    await services.tags.create(ctx, { resources: i.Resources, tags: i.Tags });
    return {};
  },

  DeleteTags: async (services, ctx, i) => {
    await services.tags.delete(ctx, { resources: i.Resources, tags: i.Tags });
    return {};
  },

  DescribeTags: (services, ctx, i) => {
    const p = services.tags.describe(ctx, { filters: i.Filters, ...page(i) });
    return { Tags: p.items.map((t) => ({ ResourceId: t.resourceId, ResourceType: t.resourceType, Key: t.key, Value: t.value })), NextToken: p.nextToken };
  },

  DescribeRegions: (services, ctx, i) => ({
    Regions: services.settings.describeRegions(ctx, { regionNames: i.RegionNames, filters: i.Filters })
      .map((r) => ({ RegionName: r.regionName, Endpoint: r.endpoint, OptInStatus: r.optInStatus })),
  }),

  DescribeAvailabilityZones: (services, ctx, i) => ({
    AvailabilityZones: services.settings.describeZones(ctx, { zoneNames: i.ZoneNames, zoneIds: i.ZoneIds, filters: i.Filters }).map((z) => ({
      ZoneName: z.zoneName, ZoneId: z.zoneId, RegionName: z.regionName, State: z.state, OptInStatus: z.optInStatus,
      ZoneType: z.zoneType, GroupName: z.groupName, NetworkBorderGroup: z.networkBorderGroup, Messages: [],
    })),
  }),

  // Some tools call this at start-up; these are the values of an account with no default VPC.
  DescribeAccountAttributes: (_services, _ctx, i) => {
    const all = { 'supported-platforms': ['VPC'], 'default-vpc': ['none'] } as const;
    const names = i.AttributeNames?.length ? i.AttributeNames : (Object.keys(all) as Array<keyof typeof all>);
    return { AccountAttributes: names.map((n) => ({ AttributeName: n, AttributeValues: all[n].map((v) => ({ AttributeValue: v })) })) };
  },

  GetEbsEncryptionByDefault: (services, ctx) => ({ EbsEncryptionByDefault: services.settings.encryptionByDefault(ctx), SseType: 'none' }),
  EnableEbsEncryptionByDefault: async (services, ctx) => ({ EbsEncryptionByDefault: await services.settings.setEncryptionByDefault(ctx, true) }),
  DisableEbsEncryptionByDefault: async (services, ctx) => ({ EbsEncryptionByDefault: await services.settings.setEncryptionByDefault(ctx, false) }),
  GetEbsDefaultKmsKeyId: (services, ctx) => ({ KmsKeyId: services.settings.defaultKmsKeyId(ctx) }),
  ModifyEbsDefaultKmsKeyId: async (services, ctx, i) => ({ KmsKeyId: await services.settings.setDefaultKmsKeyId(ctx, i.KmsKeyId) }),
  ResetEbsDefaultKmsKeyId: async (services, ctx) => ({ KmsKeyId: await services.settings.setDefaultKmsKeyId(ctx, undefined) }),
} satisfies ActionTable;

