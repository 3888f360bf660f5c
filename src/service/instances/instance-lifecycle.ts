/**
 * StartInstances, StopInstances, RebootInstances, TerminateInstances, with EC2's transitions:
 * stopped → pending → running → stopping → stopped, and anything → shutting-down → terminated.
 * What the guest's page caches hold is decided here: a stop or a reboot writes them back (the OS
 * shuts down cleanly) before the call answers; a terminate drops them. Once terminated, the
 * instance's volumes are detached and those marked DeleteOnTermination deleted.
 */
import { attachmentsAt } from '../state/attachment-records.js';
import { CatalogError } from '../service-errors.js';
import { enterState, INSTANCE_STATE_CODES, instanceStateAt } from '../state/instance-states.js';
import type { InstanceMeta, InstanceStateName, VolumeMeta } from '../state/resource-records.js';
import type { InstanceStateChangeView } from '../state/views.js';
import type { RecordPut } from '../../core/record-store.js';
import { callerInstance, liveDevices } from '../volumes/attachments.js';
import { checkDryRun, schedule, track, type CallerContext, type ServiceState } from '../context.js';
import { purgeVolume } from '../volumes/volumes.js';

/** What each call does from each state: a new state, no change (same), or IncorrectInstanceState. */
const TRANSITIONS: Record<'start' | 'stop' | 'terminate', Record<InstanceStateName, InstanceStateName | 'same' | 'refuse'>> = {
  start: { pending: 'same', running: 'same', stopping: 'refuse', stopped: 'pending', 'shutting-down': 'refuse', terminated: 'refuse' },
  stop: { pending: 'stopping', running: 'stopping', stopping: 'same', stopped: 'same', 'shutting-down': 'refuse', terminated: 'refuse' },
  terminate: { pending: 'shutting-down', running: 'shutting-down', stopping: 'shutting-down', stopped: 'shutting-down', 'shutting-down': 'same', terminated: 'same' },
};

const stateOf = (name: InstanceStateName) => ({ code: INSTANCE_STATE_CODES[name], name });

function userInitiated(now: number): string {
  return `User initiated (${new Date(now).toISOString().replace('T', ' ').slice(0, 19)} GMT)`;
}

/** Validates every id, then applies `action` to each instance in one batch; answers in the order given. */
async function transition(
  s: ServiceState, ctx: CallerContext, ids: readonly string[], action: 'start' | 'stop' | 'terminate',
): Promise<{ changes: InstanceStateChangeView[]; changed: InstanceMeta[] }> {
  if (ids.length === 0) throw new CatalogError('MISSING_PARAMETER', 'The request must contain the parameter InstanceId');
  for (const id of ids) callerInstance(s, ctx, id);
  return s.lock.run(async () => {
    const now = s.clock.now();
    const changed = new Map<string, InstanceMeta>();
    const plan: Array<{ id: string; from: InstanceStateName; to: InstanceStateName }> = [];
    for (const id of ids) {
      const m = changed.get(id) ?? callerInstance(s, ctx, id);
      const from = instanceStateAt(m, now);
      const to = TRANSITIONS[action][from];
      if (to === 'refuse') {
        throw new CatalogError('INCORRECT_INSTANCE_STATE', `The instance '${id}' is not in a state from which it can be ${action === 'start' ? 'started' : 'stopped'} (it is ${from}).`);
      }
      if (action === 'start' && to === 'pending' && !liveDevices(s, id, now).some((d) => d.device === m.rootDeviceName)) {
        throw new CatalogError('INCORRECT_INSTANCE_STATE', `The instance '${id}' has no root volume attached at ${m.rootDeviceName}: attach one before starting it.`);
      }
      if (to === 'same') {
        plan.push({ id, from, to: from });
        continue;
      }
      let next = enterState(m, to, now, s.timings.instanceStateMs);
      next = { ...next, stateTransitionReason: action === 'start' ? '' : userInitiated(now), ...(action === 'start' ? { launchTime: new Date(now).toISOString() } : {}) };
      changed.set(id, next);
      plan.push({ id, from, to });
    }
    checkDryRun(ctx);
    const records: RecordPut[] = [...changed.values()].map((m) => s.catalog.instanceRecord(m));
    const volumes = action === 'terminate' ? detachingAtTermination(s, [...changed.values()], now) : [];
    records.push(...volumes.map((v) => s.catalog.volumeRecord(v)));
    await s.store.records.write(records);
    for (const m of changed.values()) s.catalog.setInstance(m);
    for (const v of volumes) s.catalog.setVolume(v);
    // `--timing instant`: transitions last 0 ms, so the answer shows where they settled.
    const settled = (id: string, to: InstanceStateName) => (s.timings.instant && changed.has(id) ? instanceStateAt(changed.get(id)!, now) : to);
    const changes = plan.map(({ id, from, to }) => ({ instanceId: id, previousState: stateOf(from), currentState: stateOf(settled(id, to)) }));
    return { changes, changed: [...changed.values()] };
  });
}

export async function startInstances(s: ServiceState, ctx: CallerContext, ids: readonly string[]): Promise<InstanceStateChangeView[]> {
  return (await transition(s, ctx, ids, 'start')).changes;
}

/** The OS shuts down cleanly: every page cache is written back before the call answers. */
export async function stopInstances(s: ServiceState, ctx: CallerContext, ids: readonly string[]): Promise<InstanceStateChangeView[]> {
  const { changes, changed } = await transition(s, ctx, ids, 'stop');
  await Promise.all(changed.map((m) => s.guests.retireInstance(m.id, 'flush')));
  return changes;
}

/** The state does not change; the caches are written back (and thawed), as by a clean reboot. */
export async function rebootInstances(s: ServiceState, ctx: CallerContext, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) throw new CatalogError('MISSING_PARAMETER', 'The request must contain the parameter InstanceId');
  const now = s.clock.now();
  const instances = ids.map((id) => callerInstance(s, ctx, id));
  for (const m of instances) {
    const state = instanceStateAt(m, now);
    if (state !== 'running' && state !== 'pending') {
      throw new CatalogError('INCORRECT_INSTANCE_STATE', `The instance '${m.id}' is not in a state from which it can be rebooted (it is ${state}).`);
    }
  }
  checkDryRun(ctx);
  await Promise.all(instances.map((m) => s.guests.flushInstance(m.id)));
}

/** Power off: the page caches are lost. The volumes go once the instance is terminated. */
export async function terminateInstances(s: ServiceState, ctx: CallerContext, ids: readonly string[]): Promise<InstanceStateChangeView[]> {
  const { changes, changed } = await transition(s, ctx, ids, 'terminate');
  await Promise.all(changed.map((m) => s.guests.retireInstance(m.id, 'drop')));
  for (const m of changed) await scheduleRelease(s, m);
  return changes;
}

/** The instance's attachments show `detaching` until it is terminated. */
function detachingAtTermination(s: ServiceState, instances: InstanceMeta[], now: number): VolumeMeta[] {
  const out: VolumeMeta[] = [];
  for (const m of instances) {
    for (const v of s.catalog.volumesAttachedTo(m.id)) {
      const attachments = attachmentsAt(v, now).map((a) =>
        a.instanceId === m.id && a.state !== 'detaching' ? { ...a, state: 'detaching' as const, settleTime: m.stateUntil! } : a,
      );
      out.push({ ...v, attachments });
    }
  }
  return out;
}

/** Releases the volumes when the instance becomes terminated (at once if that is now). */
export async function scheduleRelease(s: ServiceState, m: InstanceMeta): Promise<void> {
  const due = Date.parse(m.stateUntil ?? m.stateSince) - s.clock.now();
  if (due <= 0) await releaseVolumes(s, m.id);
  else schedule(s, due, () => releaseVolumes(s, m.id));
}

/** Detaches a terminated instance's volumes and deletes those marked DeleteOnTermination. Idempotent. */
export async function releaseVolumes(s: ServiceState, instanceId: string): Promise<void> {
  const deleted = await s.lock.run(async () => {
    const m = s.catalog.getInstance(instanceId);
    if (!m || m.released) return [];
    const doomed: string[] = [];
    const volumes = [...s.catalog.volumesAttachedTo(instanceId)].map((v) => {
      const mine = v.attachments.find((a) => a.instanceId === instanceId);
      const others = attachmentsAt(v, s.clock.now()).filter((a) => a.instanceId !== instanceId);
      if (mine?.deleteOnTermination && others.length === 0) {
        doomed.push(v.id);
        return { ...v, attachments: [], state: 'deleting' as const };
      }
      return { ...v, attachments: others };
    });
    const released = { ...m, released: true };
    await s.store.records.write([s.catalog.instanceRecord(released), ...volumes.map((v) => s.catalog.volumeRecord(v))]);
    s.catalog.setInstance(released);
    for (const v of volumes) s.catalog.setVolume(v);
    return doomed;
  });
  for (const id of deleted) track(s, purgeVolume(s, id));
}

/** After a restart: terminations whose volumes were not released yet. */
export async function resumeInstances(s: ServiceState): Promise<void> {
  for (const m of [...s.catalog.allInstances()]) {
    if (!m.released && (m.state === 'shutting-down' || m.state === 'terminated')) await scheduleRelease(s, m);
  }
}
