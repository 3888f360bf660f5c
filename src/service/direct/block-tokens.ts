/**
 * Block and page tokens of the direct APIs, stateless as the contract suggests, with a key kept in
 * the data directory (a core record), so tokens survive a restart and a tampered one fails.
 *
 * A block token is one AES-128 block: the encryption of (snapshot tag ‖ block index ‖ expiry),
 * where the tag is an HMAC of the snapshot id. AES is a pseudo-random permutation, so a token that
 * was not made with the key decrypts to a tag that does not match (a 2^-64 chance). A page of
 * 10,000 tokens is one cipher call, not 10,000 HMACs (those cost 100 ms a page). The token names
 * no digest: GetSnapshotBlock takes it from the (cached) manifest.
 *
 * A page token is an HMAC-signed (expiry ‖ next index), one per page.
 * Standard base64 only: tokens must match ^[A-Za-z0-9+/=]+$.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RecordStore } from '../../core/record-store.js';
import { DirectApiError } from './direct-errors.js';

const KEY_NAMESPACE = 'direct-api';
const KEY_ID = 'token-key';
const MAC_BYTES = 16;
const TAG_BYTES = 8;
const TOKEN_BYTES = 16;

/** AWS keeps block tokens 7 days and page tokens 60 minutes. */
export const BLOCK_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;
export const PAGE_TOKEN_TTL_MS = 3600 * 1000;

export class BlockTokens {
  private readonly blockKey: Buffer;

  private constructor(private readonly key: Buffer) {
    this.blockKey = createHmac('sha256', key).update('block-token-aes128').digest().subarray(0, 16);
  }

  /** The data directory's key, made on first use. */
  static async open(records: RecordStore): Promise<BlockTokens> {
    let key = await records.get<string>(KEY_NAMESPACE, KEY_ID);
    if (key === undefined) {
      key = randomBytes(32).toString('base64');
      await records.put(KEY_NAMESPACE, KEY_ID, key);
    }
    return new BlockTokens(Buffer.from(key, 'base64'));
  }

  /** Tokens for these blocks of a snapshot, valid until `expiresAt` (ms), in one cipher call. */
  blockTokens(snapshotId: string, indexes: readonly number[], expiresAt: number): string[] {
    if (indexes.length === 0) return [];
    const tag = this.snapshotTag(snapshotId);
    const expiry = Math.floor(expiresAt / 1000);
    const plain = Buffer.allocUnsafe(indexes.length * TOKEN_BYTES);
    for (let k = 0; k < indexes.length; k++) {
      const at = k * TOKEN_BYTES;
      tag.copy(plain, at);
      plain.writeUInt32BE(indexes[k]!, at + TAG_BYTES);
      plain.writeUInt32BE(expiry, at + TAG_BYTES + 4);
    }
    const sealed = createCipheriv('aes-128-ecb', this.blockKey, null).setAutoPadding(false).update(plain);
    const out = new Array<string>(indexes.length);
    for (let k = 0; k < indexes.length; k++) out[k] = sealed.toString('base64', k * TOKEN_BYTES, (k + 1) * TOKEN_BYTES);
    return out;
  }

  /** Throws INVALID_BLOCK_TOKEN unless this key made `token` for this snapshot and index, and it has not expired. */
  openBlockToken(token: string, snapshotId: string, index: number, now: number): void {
    const raw = /^[A-Za-z0-9+/=]{24}$/.test(token) ? Buffer.from(token, 'base64') : undefined;
    let valid = false;
    if (raw && raw.length === TOKEN_BYTES && raw.toString('base64') === token) {
      const plain = createDecipheriv('aes-128-ecb', this.blockKey, null).setAutoPadding(false).update(raw);
      valid = timingSafeEqual(plain.subarray(0, TAG_BYTES), this.snapshotTag(snapshotId))
        && plain.readUInt32BE(TAG_BYTES) === index
        && plain.readUInt32BE(TAG_BYTES + 4) * 1000 >= now;
    }
    if (!valid) throw new DirectApiError('BLOCK_TOKEN_INVALID', `The block token is not valid for block ${index} of ${snapshotId}, or it has expired.`);
  }

  private snapshotTag(snapshotId: string): Buffer {
    return this.mac(`snapshot\0${snapshotId}`, Buffer.alloc(0)).subarray(0, TAG_BYTES);
  }

  /** A page token: where the next page of a listing of `scope` (the snapshot ids) starts. */
  pageToken(scope: string, nextIndex: number, expiresAt: number): string {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(nextIndex);
    return this.seal(`page\0${scope}`, payload, expiresAt);
  }

  openPageToken(token: string, scope: string, now: number): number {
    const payload = this.open(token, `page\0${scope}`, now, 4);
    if (!payload) throw new DirectApiError('PAGE_TOKEN_INVALID', 'The page token is not valid for this listing, or it has expired.');
    return payload.readUInt32BE(0);
  }

  private seal(context: string, payload: Buffer, expiresAt: number): string {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(Math.floor(expiresAt / 1000));
    const body = Buffer.concat([head, payload]);
    return Buffer.concat([body, this.mac(context, body)]).toString('base64');
  }

  private open(token: string, context: string, now: number, payloadBytes: number): Buffer | undefined {
    if (!/^[A-Za-z0-9+/=]{1,256}$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64');
    if (raw.length !== 4 + payloadBytes + MAC_BYTES || raw.toString('base64') !== token) return undefined;
    const body = raw.subarray(0, 4 + payloadBytes);
    if (!timingSafeEqual(this.mac(context, body), raw.subarray(4 + payloadBytes))) return undefined;
    if (body.readUInt32BE(0) * 1000 < now) return undefined;
    return body.subarray(4);
  }

  private mac(context: string, body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(context).update('\0').update(body).digest().subarray(0, MAC_BYTES);
  }
}
