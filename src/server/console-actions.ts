/**
 * What the console's buttons do, through the same services the EC2 API, the data plane and the
 * guest plane call: create a volume, write text or a pattern (to the volume, or through an
 * instance's page cache), fsync or sync, crash an instance, snapshot, CreateSnapshots, restore,
 * delete a snapshot (saying what the deletion freed and kept), launch and stop an instance, attach.
 */
import type { CallerContext, Services } from '../simulator.js';
import { DataPlaneRequestError } from './data-plane-errors.js';
import { PIECE_BYTES } from './data-plane-io.js';

type Body = Record<string, unknown>;
type Action = (services: Services, ctx: CallerContext, body: Body) => Promise<unknown>;

const str = (b: Body, name: string): string => {
  const v = b[name];
  if (typeof v !== 'string' || v === '') throw new DataPlaneRequestError(400, 'MISSING_PARAMETER', `The action needs "${name}".`);
  return v;
};
const optStr = (b: Body, name: string): string | undefined => (typeof b[name] === 'string' && b[name] !== '' ? (b[name] as string) : undefined);
const int = (b: Body, name: string, fallback?: number): number => {
  const v = b[name] === undefined || b[name] === '' ? fallback : Number(b[name]);
  if (v === undefined || !Number.isSafeInteger(v) || v < 0) throw new DataPlaneRequestError(400, 'INVALID_PARAMETER_VALUE', `"${name}" must be a non-negative integer.`);
  return v;
};

/** The largest pattern one console write makes (the page is no bulk loader: the data plane is). */
export const MAX_PATTERN_BYTES = 64 * 1024 * 1024;

/** The bytes a write action carries: `text` as UTF-8, or `length` bytes of `pattern` (a byte 0-255, or text repeated). */
export function payloadOf(b: Body): Buffer {
  if (typeof b.text === 'string' && b.text !== '') return Buffer.from(b.text, 'utf8');
  const length = int(b, 'length', 0);
  if (length === 0) throw new DataPlaneRequestError(400, 'MISSING_PARAMETER', 'A write needs "text", or a "pattern" and a "length".');
  if (length > MAX_PATTERN_BYTES) throw new DataPlaneRequestError(413, 'PAYLOAD_TOO_LARGE', `A console write is at most ${MAX_PATTERN_BYTES} bytes.`);
  const pattern = b.pattern;
  if (typeof pattern === 'number' && Number.isInteger(pattern) && pattern >= 0 && pattern < 256) return Buffer.alloc(length, pattern);
  if (typeof pattern === 'string' && pattern !== '') return Buffer.alloc(length, pattern, 'utf8');
  throw new DataPlaneRequestError(400, 'INVALID_PARAMETER_VALUE', '"pattern" must be a byte (0-255) or a non-empty string.');
}

/** `sdf` from `/dev/sdf` or `sdf`. */
const deviceName = (d: string) => d.replace(/^\/dev\//, '');

export const CONSOLE_ACTIONS: Record<string, Action> = {
  'create-volume': async (svc, ctx, b) => {
    const snapshotId = optStr(b, 'snapshotId');
    const v = await svc.volumes.create(ctx, {
      availabilityZone: optStr(b, 'availabilityZone') ?? `${ctx.region}a`,
      ...(b.sizeGiB !== undefined && b.sizeGiB !== '' ? { sizeGiB: int(b, 'sizeGiB') } : snapshotId ? {} : { sizeGiB: 1 }),
      ...(snapshotId ? { snapshotId } : {}),
      ...(optStr(b, 'volumeType') ? { volumeType: optStr(b, 'volumeType') as never } : {}),
    });
    return { volumeId: v.volumeId, state: v.state };
  },
  restore: async (svc, ctx, b) => CONSOLE_ACTIONS['create-volume']!(svc, ctx, { ...b, snapshotId: str(b, 'snapshotId') }),
  write: async (svc, ctx, b) => {
    const data = payloadOf(b);
    const offset = int(b, 'offset', 0);
    const instanceId = optStr(b, 'instanceId');
    if (instanceId) {
      const device = deviceName(str(b, 'device'));
      const { sizeBytes } = svc.guests.deviceForIo({ accountId: ctx.accountId }, instanceId, device);
      checkFits(`/dev/${device} of ${instanceId}`, sizeBytes, offset, data.length);
      await inPieces(data, offset, (at, piece) => svc.guests.write({ accountId: ctx.accountId }, instanceId, device, at, piece));
      return { instanceId, device: `/dev/${device}`, offset, length: data.length, through: 'page cache' };
    }
    const volumeId = str(b, 'volumeId');
    const { sizeBytes } = svc.volumes.forIo({ accountId: ctx.accountId }, volumeId);
    checkFits(volumeId, sizeBytes, offset, data.length);
    await inPieces(data, offset, (at, piece) => svc.volumes.write({ accountId: ctx.accountId }, volumeId, at, piece));
    return { volumeId, offset, length: data.length, through: 'volume' };
  },
  read: async (svc, ctx, b) => {
    const offset = int(b, 'offset', 0);
    const length = Math.min(int(b, 'length', 64), 4096);
    const instanceId = optStr(b, 'instanceId');
    const bytes = instanceId
      ? await svc.guests.read({ accountId: ctx.accountId }, instanceId, deviceName(str(b, 'device')), offset, length)
      : await svc.volumes.read({ accountId: ctx.accountId }, str(b, 'volumeId'), offset, length);
    return { offset, length: bytes.length, text: bytes.toString('latin1'), zeros: bytes.every((x) => x === 0) };
  },
  fsync: async (svc, ctx, b) => {
    const instanceId = str(b, 'instanceId');
    const device = optStr(b, 'device');
    return device ? svc.guests.fsync({ accountId: ctx.accountId }, instanceId, deviceName(device)) : svc.guests.sync({ accountId: ctx.accountId }, instanceId);
  },
  crash: async (svc, ctx, b) => svc.guests.crash({ accountId: ctx.accountId }, str(b, 'instanceId')),
  snapshot: async (svc, ctx, b) => {
    const s = await svc.snapshots.create(ctx, { volumeId: str(b, 'volumeId'), ...(optStr(b, 'description') ? { description: optStr(b, 'description')! } : {}) });
    return { snapshotId: s.snapshotId, state: s.state };
  },
  'create-snapshots': async (svc, ctx, b) => {
    const set = await svc.snapshots.createSet(ctx, {
      instanceId: str(b, 'instanceId'), excludeBootVolume: b.excludeBootVolume === true,
      ...(optStr(b, 'description') ? { description: optStr(b, 'description')! } : {}),
    });
    return { snapshots: set.map((s) => ({ snapshotId: s.snapshotId, volumeId: s.volumeId })) };
  },
  'delete-snapshot': async (svc, ctx, b) => {
    const snapshotId = str(b, 'snapshotId');
    // Measured just before: the blocks only this snapshot sees are freed, the rest kept.
    const effect = await svc.console.deletionPreview(ctx, snapshotId);
    await svc.snapshots.delete(ctx, snapshotId);
    return { snapshotId, deleted: true, ...(effect ? { freedBlocks: effect.freed, keptBlocks: effect.kept, sharedWithParent: effect.shared } : {}) };
  },
  'delete-volume': async (svc, ctx, b) => {
    await svc.volumes.delete(ctx, str(b, 'volumeId'));
    return { deleted: true };
  },
  'run-instance': async (svc, ctx, b) => {
    const r = await svc.instances.run(ctx, { imageId: 'ami-12345678', instanceType: optStr(b, 'instanceType') ?? 't3.micro', minCount: 1, maxCount: 1 });
    return { instanceId: r.instances[0]!.instanceId };
  },
  'stop-instance': async (svc, ctx, b) => svc.instances.stop(ctx, [str(b, 'instanceId')]),
  'start-instance': async (svc, ctx, b) => svc.instances.start(ctx, [str(b, 'instanceId')]),
  attach: async (svc, ctx, b) => {
    const a = await svc.volumes.attach(ctx, { volumeId: str(b, 'volumeId'), instanceId: str(b, 'instanceId'), device: `/dev/${deviceName(str(b, 'device'))}` });
    return { volumeId: a.volumeId, instanceId: a.instanceId, device: a.device, state: a.state };
  },
};

/** Writes in the data plane's pieces (8 MiB, each one atomic write), as a PUT of the same bytes would. */
async function inPieces(data: Buffer, offset: number, write: (at: number, piece: Buffer) => Promise<void>): Promise<void> {
  for (let at = 0; at < data.length; at += PIECE_BYTES) await write(offset + at, data.subarray(at, at + PIECE_BYTES));
}

function checkFits(name: string, sizeBytes: number, offset: number, length: number): void {
  if (offset + length > sizeBytes) throw new DataPlaneRequestError(416, 'OFFSET_OUT_OF_RANGE', `range [${offset}, ${offset + length}) is beyond the end of ${name} (${sizeBytes} bytes)`);
}
