/**
 * The catalog: EC2's view of volumes and snapshots (types, zones, tags, owners, sharing, states)
 * that the storage core does not hold, per account and region. Records persist through the
 * core's record store, so they survive restarts and can change in the same atomic batch as the
 * volume or snapshot they describe (pass `xxxRecord()` along with the core call, then `setXxx()`).
 *
 * Everything is also held in memory with indexes, so Describe calls never touch LevelDB: by id,
 * by (region, account), snapshots by volume, volumes by the instances they are attached to,
 * shared snapshots by grantee, public snapshots by region, and ClientTokens. Maps keep insertion order, which is `seq` order: listings need no
 * sort. Records are treated as immutable values: replace, never mutate in place.
 */
import type { RecordPut, RecordStore } from '../../core/record-store.js';
import { NS, type AccountSettings, type InstanceMeta, type ModificationMeta, type SnapshotMeta, type VolumeMeta } from './resource-records.js';

const scope = (region: string, accountId: string) => `${region}|${accountId}`;

function indexIn<V>(index: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let m = index.get(key);
  if (!m) index.set(key, (m = new Map()));
  return m;
}

export class Catalog {
  private seq = 0;
  private readonly volumes = new Map<string, VolumeMeta>();
  private readonly snapshots = new Map<string, SnapshotMeta>();
  private readonly modifications = new Map<string, ModificationMeta>();
  private readonly settingsByScope = new Map<string, AccountSettings>();

  private readonly volumesByScope = new Map<string, Map<string, VolumeMeta>>();
  private readonly snapshotsByScope = new Map<string, Map<string, SnapshotMeta>>();
  private readonly sharedByScope = new Map<string, Map<string, SnapshotMeta>>();
  private readonly publicByRegion = new Map<string, Map<string, SnapshotMeta>>();
  private readonly snapshotsByVolume = new Map<string, Map<string, SnapshotMeta>>();
  private readonly clientTokens = new Map<string, string>();
  private readonly instances = new Map<string, InstanceMeta>();
  private readonly instancesByScope = new Map<string, Map<string, InstanceMeta>>();
  private readonly instanceTokens = new Map<string, string>();
  /** Attachment records (whatever their state) by instance: volume id → volume. */
  private readonly volumesByInstance = new Map<string, Map<string, VolumeMeta>>();

  private constructor(private readonly records: RecordStore) {}

  static async load(records: RecordStore): Promise<Catalog> {
    const c = new Catalog(records);
    const bySeq = <T extends { seq: number }>(items: T[]) => items.sort((a, b) => a.seq - b.seq);
    const all = async <T>(ns: string) => {
      const out: T[] = [];
      for await (const [, v] of records.list<T>(ns)) out.push(v);
      return out;
    };
    for (const v of bySeq(await all<VolumeMeta>(NS.volume))) c.setVolume(v);
    for (const s of bySeq(await all<SnapshotMeta>(NS.snapshot))) c.setSnapshot(s);
    for (const m of bySeq(await all<ModificationMeta>(NS.modification))) c.setModification(m);
    for (const i of bySeq(await all<InstanceMeta>(NS.instance))) c.setInstance(i);
    for await (const [key, s] of records.list<AccountSettings>(NS.account)) c.settingsByScope.set(key, s);
    return c;
  }

  /** The next listing position; every new record takes one. */
  nextSeq(): number {
    return ++this.seq;
  }

  private see(seq: number): void {
    if (seq > this.seq) this.seq = seq;
  }

  // ---- volumes ----

  getVolume(id: string): VolumeMeta | undefined {
    return this.volumes.get(id);
  }

  /** An account's volumes in a region, in creation order. */
  volumesOf(accountId: string, region: string): Iterable<VolumeMeta> {
    return this.volumesByScope.get(scope(region, accountId))?.values() ?? [];
  }

  allVolumes(): Iterable<VolumeMeta> {
    return this.volumes.values();
  }

  volumeIdForToken(accountId: string, region: string, token: string): string | undefined {
    return this.clientTokens.get(`${scope(region, accountId)}|${token}`);
  }

  volumeRecord(v: VolumeMeta): RecordPut {
    return { namespace: NS.volume, id: v.id, value: v };
  }

  volumeDeletion(id: string): RecordPut {
    return { namespace: NS.volume, id, value: null };
  }

  /** Volumes with an attachment record (any state) to the instance. */
  volumesAttachedTo(instanceId: string): Iterable<VolumeMeta> {
    return this.volumesByInstance.get(instanceId)?.values() ?? [];
  }

  setVolume(v: VolumeMeta): void {
    this.see(v.seq);
    this.unindexAttachments(v.id);
    for (const a of v.attachments) indexIn(this.volumesByInstance, a.instanceId).set(v.id, v);
    this.volumes.set(v.id, v);
    indexIn(this.volumesByScope, scope(v.region, v.accountId)).set(v.id, v);
    if (v.clientToken !== undefined) this.clientTokens.set(`${scope(v.region, v.accountId)}|${v.clientToken}`, v.id);
  }

  removeVolume(id: string): void {
    const v = this.volumes.get(id);
    if (!v) return;
    this.unindexAttachments(id);
    this.volumes.delete(id);
    this.volumesByScope.get(scope(v.region, v.accountId))?.delete(id);
    if (v.clientToken !== undefined) this.clientTokens.delete(`${scope(v.region, v.accountId)}|${v.clientToken}`);
  }

  async saveVolume(v: VolumeMeta): Promise<void> {
    await this.records.write([this.volumeRecord(v)]);
    this.setVolume(v);
  }

  private unindexAttachments(volumeId: string): void {
    for (const a of this.volumes.get(volumeId)?.attachments ?? []) {
      const m = this.volumesByInstance.get(a.instanceId);
      m?.delete(volumeId);
      if (m?.size === 0) this.volumesByInstance.delete(a.instanceId);
    }
  }

  // ---- instances ----

  getInstance(id: string): InstanceMeta | undefined {
    return this.instances.get(id);
  }

  /** An account's instances in a region, in launch order (a reservation's instances are consecutive). */
  instancesOf(accountId: string, region: string): Iterable<InstanceMeta> {
    return this.instancesByScope.get(scope(region, accountId))?.values() ?? [];
  }

  allInstances(): Iterable<InstanceMeta> {
    return this.instances.values();
  }

  /** RunInstances idempotency: the first instance launched with this token. */
  instanceIdForToken(accountId: string, region: string, token: string): string | undefined {
    return this.instanceTokens.get(`${scope(region, accountId)}|${token}`);
  }

  instanceRecord(i: InstanceMeta): RecordPut {
    return { namespace: NS.instance, id: i.id, value: i };
  }

  setInstance(i: InstanceMeta): void {
    this.see(i.seq);
    this.instances.set(i.id, i);
    indexIn(this.instancesByScope, scope(i.region, i.accountId)).set(i.id, i);
    const token = `${scope(i.region, i.accountId)}|${i.clientToken}`;
    if (i.clientToken !== undefined && !this.instanceTokens.has(token)) this.instanceTokens.set(token, i.id);
  }

  async saveInstance(i: InstanceMeta): Promise<void> {
    await this.records.write([this.instanceRecord(i)]);
    this.setInstance(i);
  }

  // ---- snapshots ----

  getSnapshot(id: string): SnapshotMeta | undefined {
    return this.snapshots.get(id);
  }

  allSnapshots(): Iterable<SnapshotMeta> {
    return this.snapshots.values();
  }

  /** An account's own snapshots in a region, in creation order. */
  ownedSnapshots(accountId: string, region: string): Iterable<SnapshotMeta> {
    return this.snapshotsByScope.get(scope(region, accountId))?.values() ?? [];
  }

  /** Everything an account may see in a region: its own, those shared with it, public ones; in seq order. */
  visibleSnapshots(accountId: string, region: string): Iterable<SnapshotMeta> {
    const own = this.snapshotsByScope.get(scope(region, accountId));
    const shared = this.sharedByScope.get(scope(region, accountId));
    const pub = this.publicByRegion.get(region);
    if (!shared?.size && !pub?.size) return own?.values() ?? [];
    const extra = new Map<string, SnapshotMeta>();
    for (const s of shared?.values() ?? []) if (s.ownerId !== accountId) extra.set(s.id, s);
    for (const s of pub?.values() ?? []) if (s.ownerId !== accountId) extra.set(s.id, s);
    return mergeBySeq([...(own?.values() ?? [])], [...extra.values()].sort((a, b) => a.seq - b.seq));
  }

  snapshotsOfVolume(volumeId: string): Iterable<SnapshotMeta> {
    return this.snapshotsByVolume.get(volumeId)?.values() ?? [];
  }

  snapshotRecord(s: SnapshotMeta): RecordPut {
    return { namespace: NS.snapshot, id: s.id, value: s };
  }

  snapshotDeletion(id: string): RecordPut {
    return { namespace: NS.snapshot, id, value: null };
  }

  setSnapshot(s: SnapshotMeta): void {
    this.see(s.seq);
    this.unindexSharing(s.id);
    this.snapshots.set(s.id, s);
    indexIn(this.snapshotsByScope, scope(s.region, s.ownerId)).set(s.id, s);
    indexIn(this.snapshotsByVolume, s.volumeId).set(s.id, s);
    for (const user of s.createVolumePermissions.userIds) indexIn(this.sharedByScope, scope(s.region, user)).set(s.id, s);
    if (s.createVolumePermissions.public) indexIn(this.publicByRegion, s.region).set(s.id, s);
  }

  removeSnapshot(id: string): void {
    const s = this.snapshots.get(id);
    if (!s) return;
    this.unindexSharing(id);
    this.snapshots.delete(id);
    this.snapshotsByScope.get(scope(s.region, s.ownerId))?.delete(id);
    this.snapshotsByVolume.get(s.volumeId)?.delete(id);
    if (this.snapshotsByVolume.get(s.volumeId)?.size === 0) this.snapshotsByVolume.delete(s.volumeId);
  }

  private unindexSharing(id: string): void {
    const old = this.snapshots.get(id);
    if (!old) return;
    for (const user of old.createVolumePermissions.userIds) this.sharedByScope.get(scope(old.region, user))?.delete(id);
    this.publicByRegion.get(old.region)?.delete(id);
  }

  async saveSnapshot(s: SnapshotMeta): Promise<void> {
    await this.records.write([this.snapshotRecord(s)]);
    this.setSnapshot(s);
  }

  // ---- volume modifications ----

  getModification(volumeId: string): ModificationMeta | undefined {
    return this.modifications.get(volumeId);
  }

  /** Latest modification of each of an account's volumes in a region (seq order: latest last). */
  modificationsOf(accountId: string, region: string): ModificationMeta[] {
    return [...this.modifications.values()].filter((m) => m.accountId === accountId && m.region === region);
  }

  modificationRecord(m: ModificationMeta): RecordPut {
    return { namespace: NS.modification, id: m.volumeId, value: m };
  }

  modificationDeletion(volumeId: string): RecordPut {
    return { namespace: NS.modification, id: volumeId, value: null };
  }

  setModification(m: ModificationMeta): void {
    this.see(m.seq);
    // Re-inserted so that the map stays in seq order.
    this.modifications.delete(m.volumeId);
    this.modifications.set(m.volumeId, m);
  }

  removeModification(volumeId: string): void {
    this.modifications.delete(volumeId);
  }

  // ---- account settings (EBS encryption by default) ----

  settings(accountId: string, region: string): AccountSettings {
    return this.settingsByScope.get(scope(region, accountId)) ?? { ebsEncryptionByDefault: false };
  }

  async saveSettings(accountId: string, region: string, settings: AccountSettings): Promise<void> {
    await this.records.write([{ namespace: NS.account, id: scope(region, accountId), value: settings }]);
    this.settingsByScope.set(scope(region, accountId), settings);
  }
}

function* mergeBySeq<T extends { seq: number }>(a: T[], b: T[]): Generator<T> {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.seq < b[j]!.seq)) yield a[i++]!;
    else yield b[j++]!;
  }
}
