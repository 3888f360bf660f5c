import { randomBytes } from 'node:crypto';
import { afterAll, describe } from 'vitest';
import { S3Store, type ObjectStore, type S3StoreOptions } from '../../src/object-store/index.js';
import { collect, mapLimit } from './helpers.js';
import { objectStoreSuite } from './suite.js';

// Any S3 endpoint you name: MinIO, Ceph RGW, LocalStack, or real AWS (leave the endpoint unset).
//   EBS_SIM_TEST_S3_BUCKET (required), EBS_SIM_TEST_S3_ENDPOINT, EBS_SIM_TEST_S3_REGION,
//   EBS_SIM_TEST_S3_PREFIX. Credentials come from the usual AWS_* variables or profile.
// Everything is written under <prefix>/ebs-sim-test-<random>/ and deleted afterwards.
const env = process.env;
const bucket = env.EBS_SIM_TEST_S3_BUCKET ?? '';
const endpoint = env.EBS_SIM_TEST_S3_ENDPOINT || undefined;

const title = 's3 store against EBS_SIM_TEST_S3_*';
describe.skipIf(bucket === '')(
  bucket === '' ? `${title} (skipped: EBS_SIM_TEST_S3_BUCKET is not set)` : title,
  () => {
    const runPrefix = `${(env.EBS_SIM_TEST_S3_PREFIX ?? '').replace(/\/+$/, '')}/ebs-sim-test-${randomBytes(4).toString('hex')}`.replace(/^\//, '');
    const options = (prefix: string): S3StoreOptions => ({
      bucket,
      prefix,
      ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
      ...(env.EBS_SIM_TEST_S3_REGION ? { region: env.EBS_SIM_TEST_S3_REGION } : {}),
    });
    let n = 0;

    afterAll(async () => {
      const store = await S3Store.open(options(runPrefix));
      const keys = (await collect(store.list(''))).map((o) => o.key);
      await mapLimit(keys, 16, (key) => store.delete(key));
      await store.close();
    });

    objectStoreSuite(
      `s3 (${endpoint ?? 'AWS'} ${bucket})`,
      {
        open: () => S3Store.open(options(`${runPrefix}/suite-${++n}`)),
        reopen: (closed: ObjectStore) => S3Store.open((closed as S3Store).options),
      },
      { keyAlsoPrefix: true, maxKeyBytes: (store) => (store as S3Store).maxKeyBytes },
    );
  },
);
