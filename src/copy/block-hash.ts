import { webcrypto } from 'node:crypto';

/**
 * SHA-256 of a block, as hex: the object store's key and the EBS direct API's checksum.
 * WebCrypto's digest runs on libuv's thread pool, so several blocks hash in parallel without
 * blocking the event loop (node:crypto's createHash would hash on the main thread).
 */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', data)).toString('hex');
}
