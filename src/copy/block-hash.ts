import { createHash } from 'node:crypto';

/**
 * SHA-256 of a block, as hex: the object store's key and the EBS direct API's checksum.
 *
 * Hashed on the main thread with node:crypto: measured here, it beat WebCrypto's thread-pool
 * digest (which copies each 512 KiB block first; every extra 512 KiB buffer adds to the external
 * memory that triggers V8's major GCs, the largest overhead of the copy) by 5-10% in
 * throughput, and the main thread is otherwise mostly idle during a copy.
 */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
