/**
 * Regions and availability zones. State is kept per region (the region a client signs for), so
 * any well-formed region name works; DescribeRegions lists the public commercial regions (and
 * the caller's own, if it is not one of them). Each region has three zones, `<region>a/b/c`.
 */
import { invalidValue } from '../service-errors.js';

export const DEFAULT_REGION = 'us-east-1';

export const KNOWN_REGIONS = [
  'af-south-1', 'ap-east-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ca-central-1', 'ca-west-1',
  'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'il-central-1', 'me-central-1', 'me-south-1', 'sa-east-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
] as const;

const REGION_NAME = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const ZONE_LETTERS = ['a', 'b', 'c'] as const;

export function isRegionName(name: string): boolean {
  return REGION_NAME.test(name);
}

export function checkRegion(name: string, parameter: string): string {
  if (!isRegionName(name)) throw invalidValue(`Value (${name}) for parameter ${parameter} is invalid. Expected a region name such as us-east-1.`);
  return name;
}

export interface ZoneInfo {
  zoneName: string;
  zoneId: string;
  regionName: string;
}

// `us-east-1` → `use1`, `ap-southeast-2` → `apse2`: the short form AWS uses in zone ids.
const DIRECTION_ABBREVIATIONS: Record<string, string> = {
  north: 'n', south: 's', east: 'e', west: 'w', central: 'c',
  northeast: 'ne', northwest: 'nw', southeast: 'se', southwest: 'sw',
};

export function regionShortName(region: string): string {
  const parts = region.split('-');
  const number = parts.pop() ?? '';
  const [area = '', ...words] = parts;
  return area + words.map((w) => DIRECTION_ABBREVIATIONS[w] ?? w.charAt(0)).join('') + number;
}

export function zonesOf(region: string): ZoneInfo[] {
  const short = regionShortName(region);
  return ZONE_LETTERS.map((letter, i) => ({ zoneName: `${region}${letter}`, zoneId: `${short}-az${i + 1}`, regionName: region }));
}

/** Resolves AvailabilityZone or AvailabilityZoneId (exactly one) to a zone of `region`. */
export function resolveZone(region: string, zoneName: string | undefined, zoneId: string | undefined): ZoneInfo {
  const zones = zonesOf(region);
  if (zoneName !== undefined) {
    const zone = zones.find((z) => z.zoneName === zoneName);
    if (!zone) {
      throw invalidValue(`Invalid availability zone: [${zoneName}]. The zones of ${region} are ${zones.map((z) => z.zoneName).join(', ')}.`);
    }
    return zone;
  }
  const zone = zones.find((z) => z.zoneId === zoneId);
  if (!zone) {
    throw invalidValue(`Invalid availability zone ID: [${zoneId}]. The zone IDs of ${region} are ${zones.map((z) => z.zoneId).join(', ')}.`);
  }
  return zone;
}

/** Regions DescribeRegions lists for a caller in `current`. */
export function listedRegions(current: string): string[] {
  const names: string[] = [...KNOWN_REGIONS];
  if (!names.includes(current)) names.push(current);
  return names.sort();
}
