import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore, S3Store, type ObjectStore, type S3StoreOptions } from '../../src/object-store/index.js';
import { collect, expectCode } from './helpers.js';
import { findOnPath, startMotoServer, type MotoServer } from '../support/moto-server.js';
import { objectStoreSuite } from './suite.js';

// The s3 backend is only worth testing against a real S3 server. moto_server is installed on the
// dev machine and on CI; elsewhere this file is skipped, and says why.
const moto = findOnPath('moto_server');

const title = 's3 store against a local moto_server';
describe.skipIf(moto === undefined)(moto ? title : `${title} (skipped: moto_server is not on PATH)`, () => {
  const bucket = 'ebs-sim-test';
  let server: MotoServer | undefined;
  let n = 0;
  const options = (extra: Partial<S3StoreOptions> = {}): S3StoreOptions => ({
    endpoint: server!.endpoint,
    bucket,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...extra,
  });

  beforeAll(async () => {
    server = await startMotoServer(moto!);
    const store = await S3Store.open(options({ createBucket: true }));
    await store.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  // Each store gets its own prefix in the one bucket, which is how simulators share a bucket.
  objectStoreSuite(
    's3 (moto)',
    {
      open: () => S3Store.open(options({ prefix: `suite-${++n}` })),
      reopen: (closed: ObjectStore) => S3Store.open((closed as S3Store).options),
    },
    { keyAlsoPrefix: true, maxKeyBytes: (store) => (store as S3Store).maxKeyBytes },
  );

  describe('s3 store', () => {
    it('keeps stores with different prefixes apart, and stores keys under the prefix', async () => {
      const a = await S3Store.open(options({ prefix: 'apart/a' }));
      const b = await S3Store.open(options({ prefix: 'apart/b/' }));
      const whole = await S3Store.open(options({ prefix: 'apart' }));
      await a.put('blocks/x', Buffer.from('from a'));
      expect(await b.head('blocks/x')).toBeUndefined();
      expect(await collect(b.list(''))).toEqual([]);
      expect(await collect(whole.list(''))).toEqual([{ key: 'a/blocks/x', size: 6 }]);
      await Promise.all([a.close(), b.close(), whole.close()]);
    });

    it('follows continuation tokens page by page', async () => {
      const store = await S3Store.open(options({ prefix: 'pages', listPageSize: 7 }));
      const keys = Array.from({ length: 23 }, (_, i) => `k/${String(i).padStart(2, '0')}`);
      await Promise.all(keys.map((k) => store.put(k, Buffer.from(k))));
      expect((await collect(store.list('k/'))).map((o) => o.key)).toEqual(keys);
      await store.close();
    });

    it('creates a bucket at open, and opening with createBucket again is harmless', async () => {
      const fresh = `ebs-sim-created-${randomBytes(3).toString('hex')}`;
      for (let i = 0; i < 2; i++) {
        const store = await S3Store.open(options({ bucket: fresh, createBucket: true, region: 'eu-west-1' }));
        await store.put('x', Buffer.from('x'));
        expect((await store.get('x')).toString()).toBe('x');
        await store.close();
      }
    });

    it('reports a missing bucket as a backend failure, not as a missing object', async () => {
      const store = await S3Store.open(options({ bucket: 'no-such-bucket-here' }));
      const err = await store.get('blocks/x').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OBJECT_STORE_FAILURE' });
      expect((err as Error).cause).toMatchObject({ name: 'NoSuchBucket' });
      await store.close();
    });

    it('reports an unreachable endpoint as OBJECT_STORE_FAILURE after maxAttempts', async () => {
      const store = await S3Store.open(options({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 }));
      await expectCode(store.put('blocks/x', Buffer.from('x')), 'OBJECT_STORE_FAILURE');
      await store.close();
    });

    it('opens from an --object-store spec, credentials from the environment or the local fallback', async () => {
      const store = await openObjectStore(`s3://${bucket}/from-spec?endpoint=${server!.endpoint}&forcePathStyle=true`);
      expect(store.kind).toBe('s3');
      await store.put('snapshots/snap-1/manifest', Buffer.from('{}'));
      const direct = await S3Store.open(options());
      expect((await direct.get('from-spec/snapshots/snap-1/manifest')).toString()).toBe('{}');
      await Promise.all([store.close(), direct.close()]);
    });
  });
});
