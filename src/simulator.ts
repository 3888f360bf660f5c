/**
 * The composition root: the one object the protocol handlers (and the data plane) call. It opens
 * the storage core (LevelDB), the object store (throttled when copyRate is set), the copy engine
 * and the EC2 catalog, and exposes typed methods that take a caller context (account, region,
 * DryRun). The behaviour lives in src/simulator/*.ts, one concern each; this file wires them.
 */
import { rm } from 'node:fs/promises';
import { Catalog } from './catalog/catalog.js';
import { CatalogError } from './catalog/errors.js';
import type { FilterInput } from './catalog/filters.js';
import type { Page, PageRequest } from './catalog/pagination.js';
import type { Tag } from './catalog/records.js';
import type { TagInput } from './catalog/tags.js';
import type {
  AttachmentView, InstanceStateChangeView, InstanceStatusView, ModificationView, RegionView, ReservationView, SnapshotAttributeView,
  SnapshotView, TagView, TierStatusView, VolumeView, ZoneView,
} from './catalog/views.js';
import { BlockStore } from './core/block-store.js';
import { Mutex } from './core/mutex.js';
import { CopyEngine } from './copy/copy-engine.js';
import type { ExportResolver } from './nbd/block-device.js';
import { DEFAULT_DIRTY_EXPIRE_SECONDS } from './server/defaults.js';
import { openObjectStore, parseObjectStoreSpec, ThrottleStore, type ObjectStore } from './object-store/index.js';
import { track, type CallerContext, type Services, type Timings } from './simulator/context.js';
import * as attachments from './simulator/attachments.js';
import * as dataPlane from './simulator/data-plane.js';
import { GuestDisks } from './simulator/guest-disks.js';
import * as guestIo from './simulator/guest-io.js';
import * as lifecycle from './simulator/instance-lifecycle.js';
import * as instanceSnapshots from './simulator/instance-snapshots.js';
import * as instances from './simulator/instances.js';
import { listExports, openExport } from './simulator/nbd-exports.js';
import * as encryption from './simulator/encryption.js';
import * as regions from './simulator/regions.js';
import * as attributes from './simulator/snapshot-attributes.js';
import * as tiers from './simulator/snapshot-tiers.js';
import * as snapshots from './simulator/snapshots.js';
import * as tags from './simulator/tags.js';
import * as modifications from './simulator/volume-modifications.js';
import * as volumes from './simulator/volumes.js';

export type { CallerContext } from './simulator/context.js';
export type { DataCaller } from './simulator/data-plane.js';
export type { GuestFlushReport, GuestView } from './simulator/guest-io.js';

export interface SimulatorOptions {
  /** Data directory of the storage core and the catalog (LevelDB and chunk packs). */
  dataDir: string;
  /** `fs:<dir>`, `memory:` or `s3://bucket/prefix?endpoint=…` (see object-store/open-object-store.ts). */
  objectStore: string;
  /** Upload bandwidth of the copy engine in bytes/s (a ThrottleStore); undefined: unlimited. */
  copyRate?: number;
  /** fsync every acknowledged mutation. */
  sync?: boolean;
  /** Blocks in flight per snapshot copy. */
  copyConcurrency?: number;
  /** Minimum seconds between two snapshots of one volume (SnapshotCreationPerVolumeRateExceeded); 0: off. */
  snapshotIntervalSeconds?: number;
  volumeCreateDelayMs?: number;
  tieringMs?: number;
  modificationMs?: number;
  /** How long instances stay pending, stopping, shutting-down (default 1 s). */
  instanceStateMs?: number;
  /** How long attachments stay attaching, detaching (default 500 ms). */
  attachmentMs?: number;
  /** Guest page caches write back pages dirty for this long (default 30, like Linux); 0: write-through. */
  dirtyExpireSeconds?: number;
  /** Above this many dirty bytes per attachment a guest write waits for writeback (default 64 MiB). */
  maxDirtyBytes?: number;
}


interface Parts {
  store: BlockStore;
  /** Always throttled (unlimited unless copyRate): the rate can change while the server runs. */
  objects: ThrottleStore;
  engine: CopyEngine;
  services: Services;
}

export class Simulator {
  private parts: Parts | undefined;
  /** Set while reset() rebuilds everything: requests get ServiceUnavailable meanwhile. */
  private resetting: Promise<void> | undefined;

  private constructor(readonly options: SimulatorOptions) {}

  static async open(options: SimulatorOptions): Promise<Simulator> {
    const sim = new Simulator(options);
    sim.parts = await openParts(options);
    return sim;
  }

  get ready(): boolean {
    return this.parts !== undefined && this.resetting === undefined;
  }

  /** The storage core and copy engine, for tests and tools (fsck, benchmarks). */
  get store(): BlockStore {
    return this.s.store;
  }

  get engine(): CopyEngine {
    return this.live().engine;
  }

  get catalog(): Catalog {
    return this.s.catalog;
  }

  private live(): Parts {
    if (!this.parts || this.resetting) throw new CatalogError('SERVICE_UNAVAILABLE', 'ebs-sim is resetting or closed; retry shortly.');
    return this.parts;
  }

  private get s(): Services {
    return this.live().services;
  }

  /** Stops background work and closes everything, in dependency order. Idempotent. */
  async close(): Promise<void> {
    const parts = this.parts;
    this.parts = undefined;
    if (parts) await closeParts(parts);
  }

  /** Wipes all state: close, delete the data directory and every object, reopen. */
  async reset(): Promise<void> {
    if (this.resetting) return this.resetting;
    this.resetting = (async () => {
      const parts = this.parts;
      this.parts = undefined;
      if (parts) await closeParts(parts, () => wipeObjects(parts.objects, this.options.objectStore));
      await rm(this.options.dataDir, { recursive: true, force: true });
      this.parts = await openParts(this.options);
    })().finally(() => (this.resetting = undefined));
    return this.resetting;
  }

  // ---- volumes ----

  createVolume(ctx: CallerContext, input: volumes.CreateVolumeInput): Promise<VolumeView> {
    return volumes.createVolume(this.s, ctx, input);
  }

  deleteVolume(ctx: CallerContext, volumeId: string): Promise<void> {
    return volumes.deleteVolume(this.s, ctx, volumeId);
  }

  describeVolumes(ctx: CallerContext, input: volumes.DescribeVolumesInput): Page<VolumeView> {
    return volumes.describeVolumes(this.s, ctx, input);
  }

  modifyVolume(ctx: CallerContext, input: modifications.ModifyVolumeInput): Promise<ModificationView> {
    return modifications.modifyVolume(this.s, ctx, input);
  }

  describeVolumesModifications(ctx: CallerContext, input: PageRequest & { volumeIds?: string[]; filters?: FilterInput[] }): Page<ModificationView> {
    return modifications.describeVolumesModifications(this.s, ctx, input);
  }

  /** Restored volumes: how far the background load from the snapshot got. */
  hydration(volumeId: string): ReturnType<CopyEngine['hydration']> {
    return this.live().engine.hydration(volumeId);
  }

  // ---- snapshots ----

  createSnapshot(ctx: CallerContext, input: snapshots.CreateSnapshotInput): Promise<SnapshotView> {
    return snapshots.createSnapshot(this.s, ctx, input);
  }

  describeSnapshots(ctx: CallerContext, input: snapshots.DescribeSnapshotsInput): Page<SnapshotView> {
    return snapshots.describeSnapshots(this.s, ctx, input);
  }

  deleteSnapshot(ctx: CallerContext, snapshotId: string): Promise<void> {
    return snapshots.deleteSnapshot(this.s, ctx, snapshotId);
  }

  copySnapshot(ctx: CallerContext, input: snapshots.CopySnapshotInput): Promise<{ snapshotId: string; tags: Tag[] }> {
    return snapshots.copySnapshot(this.s, ctx, input);
  }

  modifySnapshotAttribute(ctx: CallerContext, input: attributes.ModifySnapshotAttributeInput): Promise<void> {
    return attributes.modifySnapshotAttribute(this.s, ctx, input);
  }

  describeSnapshotAttribute(ctx: CallerContext, input: { snapshotId: string; attribute: attributes.SnapshotAttributeName }): SnapshotAttributeView {
    return attributes.describeSnapshotAttribute(this.s, ctx, input);
  }

  resetSnapshotAttribute(ctx: CallerContext, input: { snapshotId: string; attribute: attributes.SnapshotAttributeName }): Promise<void> {
    return attributes.resetSnapshotAttribute(this.s, ctx, input);
  }

  modifySnapshotTier(ctx: CallerContext, input: { snapshotId: string; storageTier?: string }): Promise<{ snapshotId: string; tieringStartTime: Date }> {
    return tiers.modifySnapshotTier(this.s, ctx, input);
  }

  restoreSnapshotTier(ctx: CallerContext, input: { snapshotId: string; temporaryRestoreDays?: number; permanentRestore?: boolean }): Promise<tiers.RestoreTierResult> {
    return tiers.restoreSnapshotTier(this.s, ctx, input);
  }

  describeSnapshotTierStatus(ctx: CallerContext, input: PageRequest & { filters?: FilterInput[] }): Page<TierStatusView> {
    return tiers.describeSnapshotTierStatus(this.s, ctx, input);
  }

  // ---- tags ----

  createTags(ctx: CallerContext, input: { resources: string[]; tags: TagInput[] }): Promise<void> {
    return tags.createTags(this.s, ctx, input);
  }

  deleteTags(ctx: CallerContext, input: { resources: string[]; tags?: TagInput[] }): Promise<void> {
    return tags.deleteTags(this.s, ctx, input);
  }

  describeTags(ctx: CallerContext, input: PageRequest & { filters?: FilterInput[] }): Page<TagView> {
    return tags.describeTags(this.s, ctx, input);
  }

  // ---- regions, zones, account settings ----

  describeRegions(ctx: CallerContext, input: { regionNames?: string[]; filters?: FilterInput[] }): RegionView[] {
    return regions.describeRegions(ctx, input);
  }

  describeAvailabilityZones(ctx: CallerContext, input: { zoneNames?: string[]; zoneIds?: string[]; filters?: FilterInput[] }): ZoneView[] {
    return regions.describeAvailabilityZones(ctx, input);
  }

  getEbsEncryptionByDefault(ctx: CallerContext): boolean {
    return encryption.getEncryptionByDefault(this.s, ctx);
  }

  setEbsEncryptionByDefault(ctx: CallerContext, on: boolean): Promise<boolean> {
    return encryption.setEncryptionByDefault(this.s, ctx, on);
  }

  getEbsDefaultKmsKeyId(ctx: CallerContext): string {
    return encryption.defaultKmsKeyId(this.s, ctx);
  }

  /** undefined resets to the AWS managed key. */
  setEbsDefaultKmsKeyId(ctx: CallerContext, keyId: string | undefined): Promise<string> {
    return encryption.setDefaultKmsKeyId(this.s, ctx, keyId);
  }

  /** Changes the copy engine's upload bandwidth (bytes/s; undefined: unlimited), transfers in flight included. */
  setCopyRate(bytesPerSecond: number | undefined): void {
    this.live().objects.setRate(bytesPerSecond);
  }

  // ---- instances and attachments ----

  runInstances(ctx: CallerContext, input: instances.RunInstancesInput): Promise<ReservationView> {
    return instances.runInstances(this.s, ctx, input);
  }

  describeInstances(ctx: CallerContext, input: instances.DescribeInstancesInput): Page<ReservationView> {
    return instances.describeInstances(this.s, ctx, input);
  }

  describeInstanceStatus(ctx: CallerContext, input: instances.DescribeInstanceStatusInput): Page<InstanceStatusView> {
    return instances.describeInstanceStatus(this.s, ctx, input);
  }

  startInstances(ctx: CallerContext, ids: string[]): Promise<InstanceStateChangeView[]> {
    return lifecycle.startInstances(this.s, ctx, ids);
  }

  stopInstances(ctx: CallerContext, ids: string[]): Promise<InstanceStateChangeView[]> {
    return lifecycle.stopInstances(this.s, ctx, ids);
  }

  rebootInstances(ctx: CallerContext, ids: string[]): Promise<void> {
    return lifecycle.rebootInstances(this.s, ctx, ids);
  }

  terminateInstances(ctx: CallerContext, ids: string[]): Promise<InstanceStateChangeView[]> {
    return lifecycle.terminateInstances(this.s, ctx, ids);
  }

  attachVolume(ctx: CallerContext, input: { volumeId: string; instanceId: string; device: string }): Promise<AttachmentView> {
    return attachments.attachVolume(this.s, ctx, input);
  }

  detachVolume(ctx: CallerContext, input: attachments.DetachVolumeInput): Promise<AttachmentView> {
    return attachments.detachVolume(this.s, ctx, input);
  }

  createSnapshots(ctx: CallerContext, input: instanceSnapshots.CreateSnapshotsInput): Promise<SnapshotView[]> {
    return instanceSnapshots.createSnapshots(this.s, ctx, input);
  }

  // ---- guest I/O (an instance's OS, through its page caches) ----

  describeGuest(caller: dataPlane.DataCaller, instanceId: string): guestIo.GuestView {
    return guestIo.describeGuest(this.s, caller, instanceId);
  }

  /** Checks the device takes guest I/O now; returns its size in bytes (as the guest sees it). */
  guestDeviceForIo(caller: dataPlane.DataCaller, instanceId: string, device: string): { sizeBytes: number } {
    return { sizeBytes: guestIo.guestDisk(this.s, caller, instanceId, device).cache.size };
  }

  guestWrite(caller: dataPlane.DataCaller, instanceId: string, device: string, offset: number, data: Buffer): Promise<void> {
    return guestIo.guestWrite(this.s, caller, instanceId, device, offset, data);
  }

  guestRead(caller: dataPlane.DataCaller, instanceId: string, device: string, offset: number, length: number): Promise<Buffer> {
    return guestIo.guestRead(this.s, caller, instanceId, device, offset, length);
  }

  guestFsync(caller: dataPlane.DataCaller, instanceId: string, device: string): Promise<guestIo.GuestFlushReport> {
    return guestIo.guestFsync(this.s, caller, instanceId, device);
  }

  guestSync(caller: dataPlane.DataCaller, instanceId: string): Promise<guestIo.GuestFlushReport> {
    return guestIo.guestSync(this.s, caller, instanceId);
  }

  guestCrash(caller: dataPlane.DataCaller, instanceId: string): Promise<guestIo.GuestFlushReport> {
    return guestIo.guestCrash(this.s, caller, instanceId);
  }

  guestFreeze(caller: dataPlane.DataCaller, instanceId: string, device?: string): Promise<guestIo.GuestFlushReport> {
    return guestIo.guestFreeze(this.s, caller, instanceId, device);
  }

  guestThaw(caller: dataPlane.DataCaller, instanceId: string, device?: string): guestIo.GuestFlushReport {
    return guestIo.guestThaw(this.s, caller, instanceId, device);
  }

  /** NBD exports (no authentication: every account's): volumes write-through, instance devices through their page caches. */
  nbdResolver(): ExportResolver {
    return {
      open: async (name) => openExport(this.s, name),
      list: async () => listExports(this.s),
    };
  }

  // ---- data plane ----

  /** Checks a volume may take I/O from this caller now; returns its size in bytes. */
  volumeForIo(caller: dataPlane.DataCaller, volumeId: string): { sizeBytes: number } {
    return { sizeBytes: dataPlane.ioVolume(this.s, caller, volumeId).sizeBytes };
  }

  writeVolume(caller: dataPlane.DataCaller, volumeId: string, offset: number, data: Buffer): Promise<void> {
    return dataPlane.writeVolume(this.s, caller, volumeId, offset, data);
  }

  readVolume(caller: dataPlane.DataCaller, volumeId: string, offset: number, length: number): Promise<Buffer> {
    return dataPlane.readVolume(this.s, caller, volumeId, offset, length);
  }

  flushVolume(caller: dataPlane.DataCaller, volumeId: string): Promise<void> {
    return dataPlane.flushVolume(this.s, caller, volumeId);
  }
}

async function openParts(options: SimulatorOptions): Promise<Parts> {
  const store = await BlockStore.open(options.dataDir, { sync: options.sync ?? false });
  let objects: ThrottleStore | undefined;
  try {
    // --sync promises that what is acknowledged survives a machine crash: for a completed
    // snapshot that means its blocks and manifest, so an fs store fsyncs too.
    const spec = parseObjectStoreSpec(options.objectStore);
    if (options.sync && spec.kind === 'fs') spec.options.durable = true;
    objects = new ThrottleStore(await openObjectStore(spec), { bytesPerSecond: options.copyRate });
    // Progress moves at checkpoints: every 4 blocks (2 MiB) keeps small snapshots' progress honest too.
    const engine = await CopyEngine.open({
      store, objects, ...(options.copyConcurrency ? { concurrency: options.copyConcurrency } : {}),
    });
    const catalog = await Catalog.load(store.records);
    const timings: Timings = {
      snapshotIntervalMs: (options.snapshotIntervalSeconds ?? 0) * 1000,
      volumeCreateDelayMs: options.volumeCreateDelayMs ?? 0,
      tieringMs: options.tieringMs ?? 3000,
      modificationMs: options.modificationMs ?? 2000,
      instanceStateMs: options.instanceStateMs ?? 1000,
      attachmentMs: options.attachmentMs ?? 500,
    };
    const guests = new GuestDisks(store, {
      dirtyExpireMs: (options.dirtyExpireSeconds ?? DEFAULT_DIRTY_EXPIRE_SECONDS) * 1000,
      ...(options.maxDirtyBytes !== undefined ? { maxDirtyBytes: options.maxDirtyBytes } : {}),
    });
    const services: Services = { store, engine, catalog, lock: new Mutex(), timings, background: new Set(), timers: new Set(), guests };
    await resumeTransitions(services);
    return { store, objects, engine, services };
  } catch (err) {
    await objects?.close().catch(() => undefined);
    await store.close();
    throw err;
  }
}

/**
 * What a previous run left half done: deletions to finish (in the background), volumes still
 * `creating`, terminated instances whose volumes were not released yet.
 */
async function resumeTransitions(s: Services): Promise<void> {
  for (const v of [...s.catalog.allVolumes()]) {
    if (v.state === 'deleting') track(s, volumes.purgeVolume(s, v.id));
    else if (v.state === 'creating') await s.catalog.saveVolume({ ...v, state: 'available' });
  }
  await lifecycle.resumeInstances(s);
}

/** `beforeObjectsClose` runs once no job uses the object store any more (reset wipes it there). */
async function closeParts(parts: Parts, beforeObjectsClose?: () => Promise<void>): Promise<void> {
  // A clean host shutdown: the guests' page caches are written back (kill -9 loses them).
  await parts.services.guests.closeAll();
  for (const t of parts.services.timers) clearTimeout(t);
  parts.services.timers.clear();
  await Promise.all([...parts.services.background]);
  // A throttled upload would hold up the engine's shutdown for as long as the throttle says.
  parts.objects.setRate(undefined);
  await parts.engine.close();
  await beforeObjectsClose?.();
  await parts.objects.close();
  await parts.store.close();
}

/** Deletes every object: the fs directory at once, other stores key by key. */
async function wipeObjects(objects: ObjectStore, spec: string): Promise<void> {
  const parsed = parseObjectStoreSpec(spec);
  if (parsed.kind === 'fs') {
    await rm(parsed.options.root, { recursive: true, force: true });
    return;
  }
  const keys: string[] = [];
  for await (const o of objects.list('')) keys.push(o.key);
  for (const k of keys) await objects.delete(k);
}
