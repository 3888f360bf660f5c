/**
 * The data plane (ours: EBS has none, its data moves through an attached instance): byte-range
 * reads and writes of volumes, and flush. Volume ids are global; with authentication on, a
 * caller only reaches its own account's volumes (in any region: the id says which volume).
 */
import { CatalogError, volumeNotFound } from '../service-errors.js';
import { checkVolumeId } from '../state/resource-ids.js';
import type { VolumeMeta } from '../state/resource-records.js';
import { CoreError } from '../../core/errors.js';
import type { ServiceState } from '../context.js';

export interface DataCaller {
  /** Undefined with authentication off: any volume is reachable. */
  accountId?: string;
}

/** A volume the data plane may use now: it exists, the caller may reach it, and it takes I/O. */
export function ioVolume(s: ServiceState, caller: DataCaller, id: string): { meta: VolumeMeta; sizeBytes: number } {
  checkVolumeId(id);
  const meta = s.catalog.getVolume(id);
  if (!meta || (caller.accountId !== undefined && meta.accountId !== caller.accountId)) throw volumeNotFound(id);
  if (meta.state !== 'available' && meta.state !== 'in-use') {
    throw new CatalogError('INCORRECT_STATE', `The volume '${id}' is '${meta.state}': it takes reads and writes only when available or in-use.`);
  }
  return { meta, sizeBytes: s.store.getVolume(id).size };
}

/** Checks a volume may take I/O from this caller now; returns its size in bytes. */
export function volumeForIo(s: ServiceState, caller: DataCaller, id: string): { sizeBytes: number } {
  return { sizeBytes: ioVolume(s, caller, id).sizeBytes };
}

export function checkRange(id: string, sizeBytes: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new CoreError('INVALID_ARGUMENT', `offset and length must be non-negative integers (got ${offset}, ${length})`);
  }
  if (offset + length > sizeBytes) {
    throw new CoreError('OFFSET_OUT_OF_RANGE', `range [${offset}, ${offset + length}) is beyond the end of ${id} (${sizeBytes} bytes)`);
  }
}

export async function writeVolume(s: ServiceState, caller: DataCaller, id: string, offset: number, data: Buffer): Promise<void> {
  const { sizeBytes } = ioVolume(s, caller, id);
  checkRange(id, sizeBytes, offset, data.length);
  await s.store.write(id, offset, data);
}

/** With `into` (at least `length` long), read there: the caller's to reuse once this settles. */
export async function readVolume(s: ServiceState, caller: DataCaller, id: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
  const { sizeBytes } = ioVolume(s, caller, id);
  checkRange(id, sizeBytes, offset, length);
  return s.store.read(id, offset, length, into);
}

export async function flushVolume(s: ServiceState, caller: DataCaller, id: string): Promise<void> {
  ioVolume(s, caller, id);
  await s.store.flush();
}
