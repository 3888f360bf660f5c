/** Volume geometry: the sizes a volume and its blocks may have, and the ranges I/O may touch. */
import { CoreError, invalidArgument } from './errors.js';

export const GiB = 1024 ** 3;
export const TiB = 1024 ** 4;
export const MIN_VOLUME_SIZE = GiB;
export const MAX_VOLUME_SIZE = 64 * TiB;
export const DEFAULT_BLOCK_SIZE = 512 * 1024;

export function checkVolumeGeometry(size: number, blockSize: number): void {
  if (!Number.isSafeInteger(size) || size < MIN_VOLUME_SIZE || size > MAX_VOLUME_SIZE) {
    throw invalidArgument(`volume size must be an integer number of bytes from 1 GiB to 64 TiB, got ${size}`);
  }
  if (!Number.isInteger(blockSize) || blockSize < 4096 || blockSize > 16 * 1024 * 1024 || (blockSize & (blockSize - 1)) !== 0) {
    throw invalidArgument(`block size must be a power of two from 4 KiB to 16 MiB, got ${blockSize}`);
  }
}

export function checkRange(vol: { id: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new CoreError('OFFSET_OUT_OF_RANGE', `offset and length must be non-negative integers (got ${offset}, ${length})`);
  }
  if (offset + length > vol.size) {
    throw new CoreError('OFFSET_OUT_OF_RANGE', `range [${offset}, ${offset + length}) is beyond the end of ${vol.id} (${vol.size} bytes)`);
  }
}
