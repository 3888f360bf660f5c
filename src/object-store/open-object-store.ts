/**
 * The `--object-store` flag: a one-line spec to an open ObjectStore.
 *
 *   fs:<dir>[?durable=true&direct=false&threads=<n>]  a directory, relative to the current directory
 *   memory:                                           in-process, gone at exit
 *   s3://<bucket>[/<prefix>][?endpoint=<url>&region=<r>&forcePathStyle=true&createBucket=true&maxAttempts=<n>]
 *
 * Every kind also takes `rate=<bytes/s>` (suffix k, m or g: KiB, MiB, GiB) and `latencyMs=<n>`,
 * which wrap the store in a ThrottleStore. An fs directory therefore cannot contain `?`.
 * Credentials are never part of the spec (it ends up in shell history and process lists).
 */

import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidObjectStoreSpecError } from './errors.js';
import { FsStore, type FsStoreOptions } from './fs-store.js';
import { MemoryStore } from './memory-store.js';
import type { ObjectStore } from './object-store.js';
import { S3Store, type S3StoreOptions } from './s3-store.js';
import { ThrottleStore, type ThrottleOptions } from './throttle-store.js';

export type ObjectStoreSpec = (
  | { kind: 'fs'; options: FsStoreOptions }
  | { kind: 'memory' }
  | { kind: 's3'; options: S3StoreOptions }
) & { throttle?: ThrottleOptions };

const COMMON_PARAMS = ['rate', 'latencyMs'];
const PARAMS = {
  fs: ['durable', 'direct', 'threads', ...COMMON_PARAMS],
  memory: COMMON_PARAMS,
  s3: ['endpoint', 'region', 'forcePathStyle', 'createBucket', 'maxAttempts', ...COMMON_PARAMS],
};

/** Parses a spec; an fs directory is resolved against `cwd`. Throws InvalidObjectStoreSpecError. */
export function parseObjectStoreSpec(spec: string, cwd: string = process.cwd()): ObjectStoreSpec {
  const fail = (reason: string): never => {
    throw new InvalidObjectStoreSpecError(spec, reason);
  };
  const question = spec.indexOf('?');
  const location = question === -1 ? spec : spec.slice(0, question);
  const query = question === -1 ? '' : spec.slice(question + 1);

  if (location === 'memory:' || location === 'memory') {
    const params = readParams(query, PARAMS.memory, fail);
    return withThrottle({ kind: 'memory' }, params, fail);
  }
  if (location.startsWith('fs:')) {
    const dir = location.slice('fs:'.length);
    if (dir === '') fail('fs needs a directory, e.g. fs:./objects');
    const params = readParams(query, PARAMS.fs, fail);
    const options: FsStoreOptions = { root: resolve(cwd, dir), durable: readBoolean(params, 'durable', fail) ?? false };
    const direct = readBoolean(params, 'direct', fail);
    if (direct !== undefined) options.direct = direct;
    const threads = params.get('threads');
    if (threads !== undefined) {
      // Capped: each thread is a V8 isolate of its own (5-17 MB resident measured for 2 more).
      if (!/^([1-9]|1[0-6])$/.test(threads)) fail(`threads must be a whole number from 1 to 16: ${threads}`);
      options.ioThreads = Number(threads);
    }
    return withThrottle({ kind: 'fs', options }, params, fail);
  }
  if (location.startsWith('s3://')) {
    const path = location.slice('s3://'.length);
    const slash = path.indexOf('/');
    const bucket = slash === -1 ? path : path.slice(0, slash);
    const prefix = slash === -1 ? '' : path.slice(slash + 1).replace(/\/+$/, '');
    if (bucket === '') fail('s3 needs a bucket, e.g. s3://my-bucket/ebs-sim');
    if (!/^[A-Za-z0-9._-]{3,63}$/.test(bucket)) {
      fail(`bucket name ${JSON.stringify(bucket)} must be 3 to 63 letters, digits, '.', '-' or '_'`);
    }
    const params = readParams(query, PARAMS.s3, fail);
    const options: S3StoreOptions = { bucket };
    if (prefix !== '') options.prefix = prefix;
    const endpoint = params.get('endpoint');
    if (endpoint !== undefined) {
      if (!/^https?:\/\/[^/?#]+/.test(endpoint) || !URL.canParse(endpoint)) {
        fail(`endpoint ${JSON.stringify(endpoint)} must be an http:// or https:// URL`);
      }
      options.endpoint = endpoint;
    }
    const region = params.get('region');
    if (region !== undefined) options.region = region;
    const forcePathStyle = readBoolean(params, 'forcePathStyle', fail);
    if (forcePathStyle !== undefined) options.forcePathStyle = forcePathStyle;
    const createBucket = readBoolean(params, 'createBucket', fail);
    if (createBucket !== undefined) options.createBucket = createBucket;
    const maxAttempts = params.get('maxAttempts');
    if (maxAttempts !== undefined) {
      if (!/^[1-9]\d{0,2}$/.test(maxAttempts)) fail(`maxAttempts must be a whole number from 1 to 999: ${maxAttempts}`);
      options.maxAttempts = Number(maxAttempts);
    }
    return withThrottle({ kind: 's3', options }, params, fail);
  }
  return fail('expected fs:<dir>, memory: or s3://<bucket>[/<prefix>][?endpoint=<url>&...]');
}

/** Opens the store a spec names, wrapped in a ThrottleStore if the spec has rate or latencyMs. */
export async function openObjectStore(spec: string | ObjectStoreSpec): Promise<ObjectStore> {
  const parsed = typeof spec === 'string' ? parseObjectStoreSpec(spec) : spec;
  let store: ObjectStore;
  switch (parsed.kind) {
    case 'fs':
      store = await FsStore.open(parsed.options);
      break;
    case 'memory':
      store = new MemoryStore();
      break;
    case 's3':
      store = await S3Store.open(parsed.options);
      break;
  }
  return parsed.throttle === undefined ? store : new ThrottleStore(store, parsed.throttle);
}

type Fail = (reason: string) => never;

function readParams(query: string, allowed: string[], fail: Fail): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (!allowed.includes(name)) fail(`unknown parameter ${JSON.stringify(name)}; allowed: ${allowed.join(', ')}`);
    if (params.has(name)) fail(`parameter ${name} given twice`);
    if (value === '') fail(`parameter ${name} has no value`);
    params.set(name, value);
  }
  return params;
}

function readBoolean(params: Map<string, string>, name: string, fail: Fail): boolean | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return fail(`${name} must be true or false: ${value}`);
}

function withThrottle(spec: ObjectStoreSpec, params: Map<string, string>, fail: Fail): ObjectStoreSpec {
  const throttle: ThrottleOptions = {};
  const rate = params.get('rate');
  if (rate !== undefined) throttle.bytesPerSecond = parseRate(rate, fail);
  const latency = params.get('latencyMs');
  if (latency !== undefined) {
    if (!/^\d+$/.test(latency)) fail(`latencyMs must be a whole number of milliseconds: ${latency}`);
    throttle.latencyMs = Number(latency);
  }
  return rate === undefined && latency === undefined ? spec : { ...spec, throttle };
}

const RATE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function parseRate(text: string, fail: Fail): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text);
  if (match === null) return fail(`rate must be bytes per second, optionally with k, m or g (KiB, MiB, GiB): ${text}`);
  return Math.round(Number(match[1]) * (RATE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1));
}

/** Deletes every object of the store `spec` names: an fs directory at once, other stores key by key. */
export async function wipeObjectStore(objects: ObjectStore, spec: string): Promise<void> {
  const parsed = parseObjectStoreSpec(spec);
  if (parsed.kind === 'fs') {
    await rm(parsed.options.root, { recursive: true, force: true });
    return;
  }
  const keys: string[] = [];
  for await (const o of objects.list('')) keys.push(o.key);
  for (const k of keys) await objects.delete(k);
}
