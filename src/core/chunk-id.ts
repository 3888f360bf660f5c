import xxhash from 'xxhash-wasm';

/**
 * 128-bit chunk identity for the local chunk store: two XXH64 hashes with different seeds.
 * Fast on the write path, not collision resistant: the chunk store compares bytes on every
 * dedup hit, so a collision costs a probe, never aliased data.
 */
export type ChunkHasher = (data: Uint8Array) => Buffer;

const SEED_A = 0n;
const SEED_B = 0x9e3779b97f4a7c15n;

let hasher: Promise<ChunkHasher> | undefined;

export function loadChunkHasher(): Promise<ChunkHasher> {
  hasher ??= xxhash().then(({ h64Raw }) => (data: Uint8Array) => {
    const id = Buffer.allocUnsafe(16);
    id.writeBigUInt64BE(h64Raw(data, SEED_A), 0);
    id.writeBigUInt64BE(h64Raw(data, SEED_B), 8);
    return id;
  });
  return hasher;
}
