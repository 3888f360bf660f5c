/**
 * EBS encryption, as metadata: Encrypted and KmsKeyId are accepted, checked and echoed (the bytes
 * are not encrypted). Encryption by default and the default key are per account and region.
 */
import { createHash } from 'node:crypto';
import { CatalogError } from '../service-errors.js';
import type { SnapshotMeta } from '../state/resource-records.js';
import { checkDryRun, type CallerContext, type ServiceState } from '../context.js';

/** The ARN of "the AWS managed key for EBS" of an account and region (stable, made up). */
export function awsManagedKeyArn(accountId: string, region: string): string {
  const h = createHash('sha256').update(`aws/ebs:${accountId}:${region}`).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `arn:aws:kms:${region}:${accountId}:key/${uuid}`;
}

export function defaultKmsKeyId(s: ServiceState, ctx: CallerContext): string {
  return s.catalog.settings(ctx.accountId, ctx.region).defaultKmsKeyId ?? awsManagedKeyArn(ctx.accountId, ctx.region);
}

/**
 * What a new volume or snapshot copy gets: encrypted if asked, if its source is, or if the account
 * encrypts by default; the key asked for, else the source's, else the account default.
 */
export function resolveEncryption(
  s: ServiceState, ctx: CallerContext, encrypted: boolean | undefined, kmsKeyId: string | undefined, source?: SnapshotMeta,
): { encrypted: boolean; kmsKeyId?: string } {
  const byDefault = s.catalog.settings(ctx.accountId, ctx.region).ebsEncryptionByDefault;
  if (kmsKeyId !== undefined && encrypted !== true && !byDefault && !source?.encrypted) {
    throw new CatalogError('INVALID_PARAMETER_DEPENDENCY', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');
  }
  if (encrypted === true || byDefault || source?.encrypted) {
    return { encrypted: true, kmsKeyId: kmsKeyId ?? source?.kmsKeyId ?? defaultKmsKeyId(s, ctx) };
  }
  return { encrypted: false };
}

export function getEncryptionByDefault(s: ServiceState, ctx: CallerContext): boolean {
  return s.catalog.settings(ctx.accountId, ctx.region).ebsEncryptionByDefault;
}

export async function setEncryptionByDefault(s: ServiceState, ctx: CallerContext, on: boolean): Promise<boolean> {
  checkDryRun(ctx);
  await s.lock.run(() => {
    const current = s.catalog.settings(ctx.accountId, ctx.region);
    return s.catalog.saveSettings(ctx.accountId, ctx.region, { ...current, ebsEncryptionByDefault: on });
  });
  return on;
}

/** ModifyEbsDefaultKmsKeyId (a key id, alias or ARN) and ResetEbsDefaultKmsKeyId (undefined). */
export async function setDefaultKmsKeyId(s: ServiceState, ctx: CallerContext, keyId: string | undefined): Promise<string> {
  if (keyId !== undefined && keyId.trim() === '') throw new CatalogError('INVALID_PARAMETER_VALUE', 'KmsKeyId must not be empty.');
  checkDryRun(ctx);
  await s.lock.run(() => {
    const { defaultKmsKeyId: _old, ...rest } = s.catalog.settings(ctx.accountId, ctx.region);
    return s.catalog.saveSettings(ctx.accountId, ctx.region, keyId === undefined ? rest : { ...rest, defaultKmsKeyId: keyId });
  });
  return defaultKmsKeyId(s, ctx);
}
