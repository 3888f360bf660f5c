/**
 * Any S3 endpoint (AWS, MinIO, Ceph RGW, moto) through @aws-sdk/client-s3. Several simulators
 * may share one bucket: keys are content addressed or unique per snapshot, and a single PUT is
 * atomic in S3, so no locking is needed. Objects live under `prefix` (a "folder" in the bucket).
 */

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { BaseObjectStore } from './base-store.js';
import { InvalidKeyError, ObjectNotFoundError, ObjectStoreError } from './errors.js';
import { MAX_KEY_BYTES } from './keys.js';
import type { ByteRange, ObjectInfo } from './object-store.js';
import { chooseS3Credentials, type S3Credentials } from './s3-credentials.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket; a trailing `/` is added if missing. */
  prefix?: string;
  /** e.g. http://127.0.0.1:9000 for MinIO or moto. Omit for AWS. */
  endpoint?: string;
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1. */
  region?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`; most local servers need it. */
  forcePathStyle?: boolean;
  /** Default: the SDK chain; see s3-credentials.ts for the local-endpoint fallback. */
  credentials?: S3Credentials;
  /** Attempts per request including the first (SDK retry with backoff). SDK default: 3. */
  maxAttempts?: number;
  /** How long one request may wait for the server's answer before it fails (default 60 s). */
  requestTimeoutMs?: number;
  /** Create the bucket at open if it does not exist. */
  createBucket?: boolean;
  /** MaxKeys per ListObjectsV2 page (S3 caps it at 1000). */
  listPageSize?: number;
}

export class S3Store extends BaseObjectStore {
  readonly kind = 's3';
  readonly bucket: string;
  readonly prefix: string;
  /** S3's 1024-byte limit applies to prefix + key, so the prefix shortens our keys. */
  readonly maxKeyBytes: number;
  /** Cleared once the server answers a conditional PUT with 501 Not Implemented. */
  #conditionalPuts = true;

  private constructor(
    readonly options: Readonly<S3StoreOptions>,
    readonly client: S3Client,
  ) {
    super();
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix);
    this.maxKeyBytes = MAX_KEY_BYTES - Buffer.byteLength(this.prefix);
  }

  static async open(options: S3StoreOptions): Promise<S3Store> {
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const config: S3ClientConfig = {
      region,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: chooseS3Credentials(options),
    };
    if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
    // Without these a server that stops answering holds a request (and its socket) forever;
    // the copy engine times attempts out too, but only the SDK can close the socket.
    config.requestHandler = { connectionTimeout: 5_000, requestTimeout: options.requestTimeoutMs ?? 60_000 };
    if (options.endpoint !== undefined) {
      config.endpoint = options.endpoint;
      // Non-AWS servers often reject or mangle the SDK's default CRC checksums (since 3.729);
      // send and verify them only where the operation requires it.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    const store = new S3Store({ ...options, region }, new S3Client(config));
    if (options.createBucket) {
      try {
        await store.#createBucket(region);
      } catch (err) {
        store.client.destroy();
        throw new ObjectStoreError(`s3 create bucket ${options.bucket} failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    return store;
  }

  protected async _put(key: string, body: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.#key(key), Body: body, ContentLength: body.length }),
    );
  }

  /**
   * One conditional PUT (If-None-Match: *, which AWS S3, MinIO and Ceph RGW support): 412 means
   * the object is there. A server that rejects the condition as unsupported gets a HEAD and a
   * PUT from then on; one that ignores it overwrites with the same bytes (keys here are
   * content-addressed) and the block counts as uploaded.
   */
  protected override async _putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    if (!this.#conditionalPuts) return super._putIfAbsent(key, body);
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.#key(key), Body: body, ContentLength: body.length, IfNoneMatch: '*' }),
      );
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412) return false;
      if (status === 501) {
        this.#conditionalPuts = false;
        return super._putIfAbsent(key, body);
      }
      throw err;
    }
  }

  protected async _get(key: string, range?: ByteRange): Promise<Buffer> {
    // HTTP cannot express an empty range (`bytes=5-4` is ignored and the whole object sent).
    if (range?.length === 0) {
      if ((await this._head(key)) === undefined) throw new ObjectNotFoundError(key);
      return Buffer.alloc(0);
    }
    const Range = range && `bytes=${range.offset}-${range.offset + range.length - 1}`;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(key), Range }));
      const bytes = (await res.Body?.transformToByteArray()) ?? new Uint8Array();
      const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // A server that ignores Range answers 200 with everything: cut it here.
      if (range !== undefined && res.ContentRange === undefined) {
        return body.subarray(range.offset, range.offset + range.length);
      }
      return body;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      // 416: the range starts at or past the end of an existing object; clipped to nothing.
      if (range !== undefined && httpStatus(err) === 416) return Buffer.alloc(0);
      throw err;
    }
  }

  protected async _head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.#key(key) }));
      return { key, size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  protected async *_list(prefix: string): AsyncGenerator<ObjectInfo> {
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
          MaxKeys: this.options.listPageSize,
        }),
      );
      for (const object of res.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  protected async _delete(key: string): Promise<void> {
    // S3 answers 204 for a missing key too: idempotent by nature.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#key(key) }));
  }

  protected override async _close(): Promise<void> {
    this.client.destroy();
  }

  #key(key: string): string {
    if (Buffer.byteLength(key) > this.maxKeyBytes) {
      throw new InvalidKeyError(key, `longer than ${this.maxKeyBytes} bytes, the limit under prefix ${this.prefix}`);
    }
    return this.prefix + key;
  }

  async #createBucket(region: string): Promise<void> {
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // us-east-1 is the default location and rejects an explicit constraint.
          ...(region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
        }),
      );
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'BucketAlreadyOwnedByYou') return;
      if (name !== 'BucketAlreadyExists') throw err;
      // Someone's bucket has that name: fine if it is reachable with our credentials.
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    }
  }
}

function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** NoSuchKey from GET; HEAD responses have no body, so the SDK can only say NotFound (404). */
function isNotFound(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
}
