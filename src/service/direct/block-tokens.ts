/**
 * Block and page tokens of the direct APIs, stateless as the contract suggests: base64 of
 * (expiry ‖ payload ‖ HMAC over the snapshot ids, the payload and the expiry), with a key kept in
 * the data directory (a core record), so tokens survive a restart and a tampered one fails.
 * A block token carries its block's digest: GetSnapshotBlock needs no manifest lookup.
 * Standard base64 only: tokens must match ^[A-Za-z0-9+/=]+$.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RecordStore } from '../../core/record-store.js';
import { DirectApiError } from './direct-errors.js';

const KEY_NAMESPACE = 'direct-api';
const KEY_ID = 'token-key';
const MAC_BYTES = 16;

/** AWS keeps block tokens 7 days and page tokens 60 minutes. */
export const BLOCK_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;
export const PAGE_TOKEN_TTL_MS = 3600 * 1000;

export class BlockTokens {
  private constructor(private readonly key: Buffer) {}

  /** The data directory's key, made on first use. */
  static async open(records: RecordStore): Promise<BlockTokens> {
    let key = await records.get<string>(KEY_NAMESPACE, KEY_ID);
    if (key === undefined) {
      key = randomBytes(32).toString('base64');
      await records.put(KEY_NAMESPACE, KEY_ID, key);
    }
    return new BlockTokens(Buffer.from(key, 'base64'));
  }

  blockToken(snapshotId: string, index: number, sha256: string, expiresAt: number): string {
    return this.seal(`block\0${snapshotId}\0${index}`, Buffer.from(sha256, 'hex'), expiresAt);
  }

  /** The digest a block token names, if it is this key's token for this snapshot and index and has not expired. */
  openBlockToken(token: string, snapshotId: string, index: number, now: number): string {
    const payload = this.open(token, `block\0${snapshotId}\0${index}`, now, 32);
    if (!payload) throw new DirectApiError('BLOCK_TOKEN_INVALID', `The block token is not valid for block ${index} of ${snapshotId}, or it has expired.`);
    return payload.toString('hex');
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
