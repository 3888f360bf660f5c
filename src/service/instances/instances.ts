/**
 * RunInstances, DescribeInstances, DescribeInstanceStatus. An instance here is what EBS sees of
 * one: a zone, a state, and block devices. Each gets an 8 GiB gp2 root volume at /dev/sda1
 * unless its BlockDeviceMappings say otherwise; every volume is created in the instance's zone,
 * already attached. Stop, start, reboot and terminate are in instance-lifecycle.ts.
 */
import { createHash } from 'node:crypto';
import { CatalogError, instanceNotFound, invalidValue, missingParameter } from '../service-errors.js';
import { compileFilters, type FilterInput } from '../state/filters.js';
import { INSTANCE_FILTERS, INSTANCE_STATUS_FILTERS } from '../state/filter-tables.js';
import { checkInstanceId, newInstanceId, newReservationId } from '../state/resource-ids.js';
import { INSTANCE_STATE_CODES, instanceStateAt, stillVisible } from '../state/instance-states.js';
import { pageOf, type Page, type PageRequest } from '../state/pagination.js';
import type { InstanceMeta } from '../state/resource-records.js';
import { resolveZone } from '../state/zones.js';
import type { TagSpecificationInput } from '../state/tag-rules.js';
import type { InstanceStatusView, InstanceView, ReservationView } from '../state/views.js';
import { deviceMappings } from '../volumes/attachments.js';
import { checkDryRun, type CallerContext, type ServiceState } from '../context.js';
import { planVolumes, plannedVolume, ROOT_DEVICE, splitTags, type BlockDeviceMappingInput } from './launch-plan.js';
import { materializeVolume } from '../volumes/volumes.js';

const DEFAULT_INSTANCE_TYPE = 'm1.small';
/** Instances one RunInstances launches at most (EC2's limit is per account; this keeps a typo cheap). */
export const MAX_LAUNCH = 50;

export interface RunInstancesInput {
  imageId?: string;
  instanceType?: string;
  minCount: number;
  maxCount: number;
  keyName?: string;
  availabilityZone?: string;
  availabilityZoneId?: string;
  blockDeviceMappings?: BlockDeviceMappingInput[];
  tagSpecifications?: TagSpecificationInput[];
  clientToken?: string;
}

export interface DescribeInstancesInput extends PageRequest {
  instanceIds?: string[];
  filters?: FilterInput[];
}

export interface DescribeInstanceStatusInput extends DescribeInstancesInput {
  includeAllInstances?: boolean;
}

export function instanceView(s: ServiceState, m: InstanceMeta, now: number): InstanceView {
  const name = instanceStateAt(m, now);
  const stopped = name === 'stopped' || name === 'terminated' || name === 'stopping' || name === 'shutting-down';
  return {
    instanceId: m.id,
    reservationId: m.reservationId,
    ownerId: m.accountId,
    imageId: m.imageId,
    instanceType: m.instanceType,
    ...(m.keyName !== undefined ? { keyName: m.keyName } : {}),
    amiLaunchIndex: m.amiLaunchIndex,
    state: { code: INSTANCE_STATE_CODES[name], name },
    stateTransitionReason: m.stateTransitionReason,
    ...(stopped && m.stateTransitionReason !== ''
      ? { stateReason: { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' } }
      : {}),
    launchTime: new Date(m.launchTime),
    availabilityZone: m.availabilityZone,
    availabilityZoneId: m.availabilityZoneId,
    privateIpAddress: m.privateIpAddress,
    privateDnsName: `ip-${m.privateIpAddress.replaceAll('.', '-')}.ec2.internal`,
    rootDeviceName: m.rootDeviceName,
    blockDeviceMappings: deviceMappings(s, m.id, now).map((d) => ({
      deviceName: d.device,
      volumeId: d.volume.id,
      status: d.attachment.state === 'busy' ? 'attached' : d.attachment.state,
      attachTime: new Date(d.attachment.attachTime),
      deleteOnTermination: d.attachment.deleteOnTermination,
    })),
    tags: m.tags,
    ...(m.clientToken !== undefined ? { clientToken: m.clientToken } : {}),
  };
}

function fingerprint(input: RunInstancesInput): string {
  const { clientToken: _t, ...rest } = input;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

export async function runInstances(s: ServiceState, ctx: CallerContext, input: RunInstancesInput): Promise<ReservationView> {
  if (input.clientToken !== undefined) {
    if (input.clientToken.length > 64) throw invalidValue('ClientToken must be at most 64 characters.');
    const earlier = replayed(s, ctx, input);
    if (earlier) return earlier;
  }
  const { minCount, maxCount } = input;
  if (!Number.isInteger(minCount) || minCount < 1) throw invalidValue(`MinCount must be at least 1, got ${minCount}.`);
  if (!Number.isInteger(maxCount) || maxCount < minCount) throw invalidValue(`MaxCount (${maxCount}) must be at least MinCount (${minCount}).`);
  if (minCount > MAX_LAUNCH) throw invalidValue(`ebs-sim launches at most ${MAX_LAUNCH} instances per RunInstances call; MinCount is ${minCount}.`);
  const count = Math.min(maxCount, MAX_LAUNCH);
  if (input.imageId === undefined || input.imageId === '') throw missingParameter('ImageId');
  if (input.availabilityZone !== undefined && input.availabilityZoneId !== undefined) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'Specify either Placement.AvailabilityZone or Placement.AvailabilityZoneId, not both.');
  }
  const zone = input.availabilityZone === undefined && input.availabilityZoneId === undefined
    ? resolveZone(ctx.region, `${ctx.region}a`, undefined)
    : resolveZone(ctx.region, input.availabilityZone, input.availabilityZoneId);
  const plan = planVolumes(s, ctx, input.blockDeviceMappings ?? []);
  const { instanceTags, volumeTags } = splitTags(input.tagSpecifications);
  checkDryRun(ctx);

  return s.lock.run(async () => {
    if (input.clientToken !== undefined) {
      const earlier = replayed(s, ctx, input);
      if (earlier) return earlier;
    }
    const now = s.clock.now();
    const reservationId = newReservationId();
    const instances: InstanceMeta[] = [];
    for (let i = 0; i < count; i++) {
      const id = newInstanceId();
      instances.push({
        id,
        seq: s.catalog.nextSeq(),
        accountId: ctx.accountId,
        region: ctx.region,
        reservationId,
        amiLaunchIndex: i,
        imageId: input.imageId!,
        instanceType: input.instanceType ?? DEFAULT_INSTANCE_TYPE,
        ...(input.keyName !== undefined ? { keyName: input.keyName } : {}),
        availabilityZone: zone.zoneName,
        availabilityZoneId: zone.zoneId,
        rootDeviceName: ROOT_DEVICE,
        privateIpAddress: privateIp(id),
        launchTime: new Date(now).toISOString(),
        state: 'pending',
        stateSince: new Date(now).toISOString(),
        stateUntil: new Date(now + s.timings.instanceStateMs).toISOString(),
        stateTransitionReason: '',
        tags: instanceTags.map((t) => ({ ...t })),
        ...(input.clientToken !== undefined ? { clientToken: input.clientToken, clientTokenFingerprint: fingerprint(input) } : {}),
      });
    }
    // Instances first: a crash while their volumes are created leaves instances short of a volume,
    // never volumes attached to nothing.
    await s.store.records.write(instances.map((m) => s.catalog.instanceRecord(m)));
    for (const m of instances) s.catalog.setInstance(m);
    for (const m of instances) {
      for (const p of plan) await materializeVolume(s, plannedVolume(s, ctx, m, p, volumeTags, now));
    }
    // EC2 answers RunInstances with `pending`, whatever comes next (`--timing instant`: running).
    return {
      reservationId,
      ownerId: ctx.accountId,
      instances: instances.map((m) => s.timings.instant ? instanceView(s, m, now) : { ...instanceView(s, m, now), state: { code: INSTANCE_STATE_CODES.pending, name: 'pending' as const } }),
    };
  });
}

function replayed(s: ServiceState, ctx: CallerContext, input: RunInstancesInput): ReservationView | undefined {
  const firstId = s.catalog.instanceIdForToken(ctx.accountId, ctx.region, input.clientToken!);
  const first = firstId === undefined ? undefined : s.catalog.getInstance(firstId);
  if (!first) return undefined;
  if (first.clientTokenFingerprint !== fingerprint(input)) {
    throw new CatalogError('IDEMPOTENT_PARAMETER_MISMATCH', `The client token '${input.clientToken}' was already used for ${first.id} with different parameters.`);
  }
  checkDryRun(ctx);
  const members = [...s.catalog.instancesOf(ctx.accountId, ctx.region)].filter((m) => m.reservationId === first.reservationId);
  return { reservationId: first.reservationId, ownerId: first.accountId, instances: members.map((m) => instanceView(s, m, s.clock.now())) };
}

/** A stable private address in 10.0.0.0/16 derived from the id. */
function privateIp(id: string): string {
  const h = createHash('sha256').update(id).digest();
  return `10.0.${h[0]!}.${(h[1]! % 253) + 1}`;
}

/** The caller's visible instances named by `ids` (all must exist), or all of them; in launch order. */
function candidates(s: ServiceState, ctx: CallerContext, ids: readonly string[], filterIds: Set<string> | undefined, now: number): InstanceMeta[] {
  if (ids.length > 0) {
    const unique = [...new Set(ids)];
    for (const id of unique) checkInstanceId(id);
    const found = unique.map((id) => s.catalog.getInstance(id));
    const missing = unique.filter((_id, i) => {
      const m = found[i];
      return !m || m.accountId !== ctx.accountId || m.region !== ctx.region || !stillVisible(m, now);
    });
    if (missing.length > 0) throw instanceNotFound(missing);
    return (found as InstanceMeta[]).sort((a, b) => a.seq - b.seq);
  }
  if (filterIds) {
    return [...filterIds]
      .map((id) => s.catalog.getInstance(id))
      .filter((m): m is InstanceMeta => m !== undefined && m.accountId === ctx.accountId && m.region === ctx.region && stillVisible(m, now))
      .sort((a, b) => a.seq - b.seq);
  }
  return [...s.catalog.instancesOf(ctx.accountId, ctx.region)].filter((m) => stillVisible(m, now));
}

function checkPaging(input: DescribeInstancesInput): void {
  if ((input.instanceIds?.length ?? 0) > 0 && input.maxResults !== undefined) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'The parameter instancesSet cannot be used with the parameter maxResults');
  }
}

/** Reservations (each listing its instances that match the filters), paged in launch order. */
export function describeInstances(s: ServiceState, ctx: CallerContext, input: DescribeInstancesInput): Page<ReservationView> {
  checkPaging(input);
  const now = s.clock.now();
  const filter = compileFilters(INSTANCE_FILTERS, input.filters);
  const groups: Array<{ seq: number; members: InstanceMeta[] }> = [];
  for (const m of candidates(s, ctx, input.instanceIds ?? [], filter.ids, now)) {
    const last = groups.at(-1);
    if (last && last.members[0]!.reservationId === m.reservationId) last.members.push(m);
    else groups.push({ seq: m.seq, members: [m] });
  }
  return pageOf(
    groups,
    (g) => ({ reservationId: g.members[0]!.reservationId, ownerId: g.members[0]!.accountId, instances: g.members.map((m) => instanceView(s, m, now)).filter(filter.matches) }),
    (r) => r.instances.length > 0,
    input,
    { min: 5, max: 1000 },
  );
}

export function instanceStatusView(m: InstanceMeta, now: number): InstanceStatusView {
  const name = instanceStateAt(m, now);
  return {
    instanceId: m.id,
    availabilityZone: m.availabilityZone,
    availabilityZoneId: m.availabilityZoneId,
    state: { code: INSTANCE_STATE_CODES[name], name },
    status: name === 'running' ? 'ok' : name === 'pending' ? 'initializing' : 'not-applicable',
  };
}

/** Running instances only, unless IncludeAllInstances. */
export function describeInstanceStatus(s: ServiceState, ctx: CallerContext, input: DescribeInstanceStatusInput): Page<InstanceStatusView> {
  checkPaging(input);
  const now = s.clock.now();
  const filter = compileFilters(INSTANCE_STATUS_FILTERS, input.filters);
  return pageOf(
    candidates(s, ctx, input.instanceIds ?? [], filter.ids, now),
    (m) => instanceStatusView(m, now),
    (v) => (input.includeAllInstances === true || v.state.name === 'running') && filter.matches(v),
    input,
    { min: 5, max: 1000 },
  );
}
