/** DescribeRegions and DescribeAvailabilityZones. */
import { invalidValue } from '../service-errors.js';
import { compileFilters, type FilterInput } from '../state/filters.js';
import { REGION_FILTERS, ZONE_FILTERS } from '../state/filter-tables.js';
import { isRegionName, listedRegions, zonesOf } from '../state/zones.js';
import type { RegionView, ZoneView } from '../state/views.js';
import { checkDryRun, type CallerContext } from '../context.js';

export function describeRegions(ctx: CallerContext, input: { regionNames?: string[]; filters?: FilterInput[] }): RegionView[] {
  const known = listedRegions(ctx.region);
  for (const name of input.regionNames ?? []) {
    if (!known.includes(name) && !isRegionName(name)) throw invalidValue(`Invalid region: ${name}`);
  }
  const filter = compileFilters(REGION_FILTERS, input.filters);
  checkDryRun(ctx);
  const names = input.regionNames?.length ? [...new Set(input.regionNames)] : known;
  return names
    .map((regionName) => ({ regionName, endpoint: `ec2.${regionName}.amazonaws.com`, optInStatus: 'opt-in-not-required' }))
    .filter(filter.matches);
}

export function describeAvailabilityZones(
  ctx: CallerContext, input: { zoneNames?: string[]; zoneIds?: string[]; filters?: FilterInput[] },
): ZoneView[] {
  const zones: ZoneView[] = zonesOf(ctx.region).map((z) => ({
    ...z, state: 'available', optInStatus: 'opt-in-not-required', zoneType: 'availability-zone', groupName: ctx.region, networkBorderGroup: ctx.region,
  }));
  for (const name of input.zoneNames ?? []) {
    if (!zones.some((z) => z.zoneName === name)) throw invalidValue(`The zone '${name}' does not exist in region ${ctx.region}.`);
  }
  for (const id of input.zoneIds ?? []) {
    if (!zones.some((z) => z.zoneId === id)) throw invalidValue(`The zone ID '${id}' does not exist in region ${ctx.region}.`);
  }
  const filter = compileFilters(ZONE_FILTERS, input.filters);
  checkDryRun(ctx);
  const names = new Set(input.zoneNames ?? []);
  const ids = new Set(input.zoneIds ?? []);
  return zones.filter((z) => (names.size + ids.size === 0 || names.has(z.zoneName) || ids.has(z.zoneId)) && filter.matches(z));
}
