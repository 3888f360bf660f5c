/**
 * The manifest: the object-store record of a completed snapshot, written last (the commit point).
 * It lists every block that holds data (index → SHA-256 of its bytes); a block not listed reads
 * as zeros. Blocks live under `blocks/<sha256 hex>`, so a block shared by many snapshots, or
 * volumes, or simulators sharing a bucket, is stored once.
 *
 * Layout: a magic line, a JSON header line, then `count` fixed-size entries (u32 index, 32-byte
 * digest) in ascending index order, then a SHA-256 of everything before it, so a torn or
 * corrupted manifest is detected rather than read as a smaller snapshot.
 */
import { createHash } from 'node:crypto';

export const manifestKey = (snapshotId: string) => `snapshots/${snapshotId}/manifest`;
export const blockKey = (sha256Hex: string) => `blocks/${sha256Hex}`;
export const MANIFEST_PREFIX = 'snapshots/';

export interface ManifestHeader {
  snapshotId: string;
  volumeId: string;
  volumeSize: number;
  blockSize: number;
  /** The snapshot this one was built incrementally on (informational: the block list is full). */
  parentId: string | null;
  createdAt: string;
}

export interface Manifest extends ManifestHeader {
  /** Block index → SHA-256 hex of its bytes. */
  blocks: Map<number, string>;
}

const MAGIC = Buffer.from('EBS-SIM-MANIFEST 1\n');
const ENTRY_BYTES = 4 + 32;

export function encodeManifest(m: Manifest): Buffer {
  const { blocks, ...header } = m;
  const head = Buffer.from(`${JSON.stringify({ ...header, count: blocks.size })}\n`);
  const table = Buffer.allocUnsafe(blocks.size * ENTRY_BYTES);
  let at = 0;
  for (const index of [...blocks.keys()].sort((a, b) => a - b)) {
    table.writeUInt32BE(index, at);
    Buffer.from(blocks.get(index)!, 'hex').copy(table, at + 4);
    at += ENTRY_BYTES;
  }
  const body = Buffer.concat([MAGIC, head, table]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export class ManifestCorruptError extends Error {
  readonly code = 'MANIFEST_CORRUPT';
}

export function decodeManifest(buf: Buffer): Manifest {
  const fail = (why: string) => new ManifestCorruptError(`manifest is corrupt: ${why}`);
  if (buf.length < MAGIC.length + 32 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw fail('bad magic');
  const body = buf.subarray(0, buf.length - 32);
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - 32))) throw fail('checksum mismatch');
  const newline = body.indexOf(0x0a, MAGIC.length);
  if (newline < 0) throw fail('no header');
  const { count, ...header } = JSON.parse(body.subarray(MAGIC.length, newline).toString('utf8')) as ManifestHeader & {
    count: number;
  };
  const table = body.subarray(newline + 1);
  if (table.length !== count * ENTRY_BYTES) throw fail(`expected ${count} entries`);
  const blocks = new Map<number, string>();
  for (let at = 0; at < table.length; at += ENTRY_BYTES) {
    blocks.set(table.readUInt32BE(at), table.subarray(at + 4, at + ENTRY_BYTES).toString('hex'));
  }
  return { ...header, blocks };
}
