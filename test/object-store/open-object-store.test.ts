import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FsStore,
  InvalidObjectStoreSpecError,
  openObjectStore,
  parseObjectStoreSpec,
  ThrottleStore,
} from '../../src/object-store/index.js';
import { openServedStore } from '../../src/object-store/served-store.js';
import { tempDirs } from './helpers.js';

const dirs = tempDirs('spec');
afterAll(() => dirs.cleanup());

describe('parseObjectStoreSpec', () => {
  it('parses fs: relative to the given cwd, or absolute, with durable, direct and threads', () => {
    expect(parseObjectStoreSpec('fs:./objects', '/srv/sim')).toEqual({
      kind: 'fs',
      options: { root: '/srv/sim/objects', durable: false },
    });
    expect(parseObjectStoreSpec('fs:/var/lib/ebs?durable=true', '/srv')).toEqual({
      kind: 'fs',
      options: { root: '/var/lib/ebs', durable: true },
    });
    expect(parseObjectStoreSpec('fs:/var/lib/ebs?direct=false', '/srv')).toEqual({
      kind: 'fs',
      options: { root: '/var/lib/ebs', durable: false, direct: false },
    });
    expect(parseObjectStoreSpec('fs:/var/lib/ebs?threads=16', '/srv')).toEqual({
      kind: 'fs',
      options: { root: '/var/lib/ebs', durable: false, ioThreads: 16 },
    });
  });

  it('parses memory: with or without the colon', () => {
    expect(parseObjectStoreSpec('memory:')).toEqual({ kind: 'memory' });
    expect(parseObjectStoreSpec('memory')).toEqual({ kind: 'memory' });
  });

  it('parses s3 bucket, prefix and every parameter', () => {
    const spec = 's3://ebs-sim/team/a/?endpoint=http://127.0.0.1:9000&region=eu-west-1&forcePathStyle=true&createBucket=1&maxAttempts=5';
    expect(parseObjectStoreSpec(spec)).toEqual({
      kind: 's3',
      options: {
        bucket: 'ebs-sim',
        prefix: 'team/a',
        endpoint: 'http://127.0.0.1:9000',
        region: 'eu-west-1',
        forcePathStyle: true,
        createBucket: true,
        maxAttempts: 5,
      },
    });
    expect(parseObjectStoreSpec('s3://bucket')).toEqual({ kind: 's3', options: { bucket: 'bucket' } });
  });

  it('parses rate (k, m, g are binary) and latencyMs for any kind', () => {
    expect(parseObjectStoreSpec('memory:?rate=512k&latencyMs=20')).toEqual({
      kind: 'memory',
      throttle: { bytesPerSecond: 512 * 1024, latencyMs: 20 },
    });
    expect(parseObjectStoreSpec('s3://b-1?rate=1.5m').throttle).toEqual({ bytesPerSecond: 1.5 * 1024 ** 2 });
    expect(parseObjectStoreSpec('fs:x?rate=100', '/').throttle).toEqual({ bytesPerSecond: 100 });
  });

  it.each([
    ['', 'expected fs:<dir>, memory: or s3://'],
    ['ftp://x', 'expected fs:<dir>, memory: or s3://'],
    ['fs:', 'fs needs a directory'],
    ['s3://', 's3 needs a bucket'],
    ['s3:///prefix', 's3 needs a bucket'],
    ['s3://a', 'bucket name "a" must be 3 to 63'],
    ['s3://bucket?endpoint=localhost:9000', 'endpoint "localhost:9000" must be an http:// or https:// URL'],
    ['s3://bucket?forcePathStyle=yes', 'forcePathStyle must be true or false: yes'],
    ['s3://bucket?maxAttempts=0', 'maxAttempts must be a whole number from 1 to 999'],
    ['s3://bucket?region=a&region=b', 'parameter region given twice'],
    ['s3://bucket?region=', 'parameter region has no value'],
    ['s3://bucket?durable=true', 'unknown parameter "durable"; allowed: endpoint, region'],
    ['fs:x?endpoint=http://a', 'unknown parameter "endpoint"; allowed: durable, direct, threads, rate, latencyMs'],
    ['fs:x?direct=no', 'direct must be true or false: no'],
    ['fs:x?threads=0', 'threads must be a whole number from 1 to 16: 0'],
    ['fs:x?threads=17', 'threads must be a whole number from 1 to 16: 17'],
    ['fs:x?threads=2.5', 'threads must be a whole number from 1 to 16: 2.5'],
    ['memory:?rate=fast', 'rate must be bytes per second'],
    ['memory:?latencyMs=-1', 'latencyMs must be a whole number'],
  ])('rejects %j with a clear INVALID_OBJECT_STORE_SPEC error', (spec, message) => {
    let caught: unknown;
    try {
      parseObjectStoreSpec(spec);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidObjectStoreSpecError);
    expect(caught).toMatchObject({ code: 'INVALID_OBJECT_STORE_SPEC', spec });
    expect((caught as Error).message).toContain(message);
  });
});

describe('openObjectStore', () => {
  it('opens an fs store in a new directory, and memory', async () => {
    const root = join(await dirs.make(), 'objects');
    const fs = await openObjectStore(`fs:${root}`);
    expect(fs).toBeInstanceOf(FsStore);
    await fs.put('blocks/a', Buffer.from('a'));
    expect(await readdir(join(root, 'blocks'))).toEqual(['a']);
    await fs.close();
    const memory = await openObjectStore('memory:');
    expect(memory.kind).toBe('memory');
    await memory.close();
  });

  it('runs as many I/O threads as the spec asks for', async () => {
    const { objects } = await openServedStore({ spec: `fs:${await dirs.make()}?threads=3` });
    expect((objects.inner as FsStore).ioThreadsRunning).toBe(3);
    await objects.close();
  });

  it('wraps the store in a throttle when the spec has a rate', async () => {
    const store = await openObjectStore({ kind: 'memory', throttle: { bytesPerSecond: 1000, latencyMs: 5 } });
    expect(store).toBeInstanceOf(ThrottleStore);
    expect((store as ThrottleStore).inner.kind).toBe('memory');
    expect((store as ThrottleStore).bytesPerSecond).toBe(1000);
    await store.close();
  });
});
