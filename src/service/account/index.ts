/** Account-wide services: tags on any resource, and settings (regions and zones, EBS encryption defaults). */
import { bindTo } from '../bind.js';
import type { ServiceState } from '../context.js';
import { defaultKmsKeyId, getEncryptionByDefault, setDefaultKmsKeyId, setEncryptionByDefault } from './encryption.js';
import { describeAvailabilityZones, describeRegions } from './regions.js';
import { createTags, deleteTags, describeTags } from './tags.js';

export function tagService(s: ServiceState) {
  const bind = bindTo(s);
  return { create: bind(createTags), delete: bind(deleteTags), describe: bind(describeTags) };
}

export function settingsService(s: ServiceState) {
  const bind = bindTo(s);
  return {
    describeRegions,
    describeZones: describeAvailabilityZones,
    encryptionByDefault: bind(getEncryptionByDefault),
    setEncryptionByDefault: bind(setEncryptionByDefault),
    defaultKmsKeyId: bind(defaultKmsKeyId),
    /** undefined resets to the AWS managed key. */
    setDefaultKmsKeyId: bind(setDefaultKmsKeyId),
  };
}

export type TagService = ReturnType<typeof tagService>;
export type SettingsService = ReturnType<typeof settingsService>;
