/** The data plane over real HTTP: byte-exact reads and writes, streaming, and JSON errors with proper statuses. */
import { readdir, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateVolumeCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CoreError } from '../../src/core/errors.js';
import { Simulator } from '../../src/simulator.js';
import { Rng } from '../support/random.js';
import { getBytes, putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

let s: SimServer;
let ec2: EC2Client;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const volume = async (size = 1) => (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: size }))).VolumeId!;

beforeAll(async () => {
  s = await startSimServer();
  ec2 = s.client();
});
afterAll(() => s.close());

describe('data plane', () => {
  it('writes and reads back exact bytes at unaligned offsets; unwritten bytes read as zeros', async () => {
    const v = await volume();
    const data = new Rng(1).bytes(700_001);
    const res = await putBytes(s.endpoint, v, 12_345, data);
    expect([res.status, await res.json()]).toEqual([200, { volumeId: v, offset: 12_345, length: 700_001 }]);
    const back = await getBytes(s.endpoint, v, 12_000, 701_000);
    expect(back.subarray(0, 345).every((b) => b === 0)).toBe(true);
    expect(back.subarray(345, 345 + 700_001).equals(data)).toBe(true);
    expect(back.subarray(345 + 700_001).every((b) => b === 0)).toBe(true);
    const flush = await fetch(`${s.endpoint}/data/volumes/${v}/flush`, { method: 'POST' });
    expect([flush.status, await flush.json()]).toEqual([200, { volumeId: v, flushed: true }]);
  });

  it('streams large bodies in both directions, with and without Content-Length', async () => {
    const v = await volume();
    const data = new Rng(2).bytes(20 * MiB + 3);
    // Chunked (no Content-Length), starting just before an 8 MiB boundary.
    const start = 8 * MiB - 5;
    const chunks = Array.from({ length: Math.ceil(data.length / (3 * MiB)) }, (_, i) => data.subarray(i * 3 * MiB, (i + 1) * 3 * MiB));
    const res = await fetch(`${s.endpoint}/data/volumes/${v}?offset=${start}`, {
      method: 'PUT', body: Readable.toWeb(Readable.from(chunks)) as ReadableStream, duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    const back = await getBytes(s.endpoint, v, start, data.length);
    expect(back.length).toBe(data.length);
    expect(back.equals(data)).toBe(true);
  });

  it('spools a large chunked PUT in the data directory, and removes the file once it is written', async () => {
    const v = await volume();
    expect(s.sim.spoolDir.startsWith(s.dir)).toBe(true);
    const data = new Rng(9).bytes(10 * MiB);
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    // Past one piece (8 MiB) a chunked body goes to a spool file; the rest waits until we look.
    const body = Readable.from((async function* () {
      yield data.subarray(0, 9 * MiB);
      await paused;
      yield data.subarray(9 * MiB);
    })());
    const put = fetch(`${s.endpoint}/data/volumes/${v}?offset=0`, { method: 'PUT', body: Readable.toWeb(body) as ReadableStream, duplex: 'half' } as RequestInit);
    await vi.waitFor(async () => expect(await readdir(s.sim.spoolDir)).toHaveLength(1), { timeout: 10_000, interval: 20 });
    resume();
    expect((await put).status).toBe(200);
    expect(await readdir(s.sim.spoolDir)).toEqual([]);
    expect((await getBytes(s.endpoint, v, 0, data.length)).equals(data)).toBe(true);
  });

  it('empties the spool at every open: an upload a kill -9 cut short leaves no file for good', async () => {
    const dataDir = join(s.dir, 'reopened');
    const first = await Simulator.open({ dataDir, objectStore: `fs:${join(s.dir, 'reopened-objects')}` });
    await writeFile(join(first.spoolDir, 'upload-left-by-a-crash'), Buffer.alloc(1024));
    await first.close();
    const second = await Simulator.open({ dataDir, objectStore: `fs:${join(s.dir, 'reopened-objects')}` });
    try {
      expect(await readdir(second.spoolDir)).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('changes nothing when it refuses a chunked PUT (416 past the end, 413 over the limit)', async () => {
    const v = await volume();
    const before = new Rng(3).bytes(2 * MiB);
    expect((await putBytes(s.endpoint, v, GiB - 2 * MiB, before)).status).toBe(200);
    const chunked = async (offset: number, body: Buffer, endpoint = s.endpoint, id = v) => {
      const pieces = Array.from({ length: Math.ceil(body.length / (256 * 1024)) }, (_, i) => body.subarray(i * 256 * 1024, (i + 1) * 256 * 1024));
      const res = await fetch(`${endpoint}/data/volumes/${id}?offset=${offset}`, {
        method: 'PUT', body: Readable.toWeb(Readable.from(pieces)) as ReadableStream, duplex: 'half',
      } as RequestInit);
      return { status: res.status, code: ((await res.json()) as { code: string }).code };
    };
    const junk = new Rng(4).bytes(2 * MiB);
    expect(await chunked(GiB - 4, junk.subarray(0, 10))).toEqual({ status: 416, code: 'OFFSET_OUT_OF_RANGE' });
    expect(await chunked(GiB - MiB, junk)).toEqual({ status: 416, code: 'OFFSET_OUT_OF_RANGE' });
    expect((await getBytes(s.endpoint, v, GiB - 2 * MiB, 2 * MiB)).equals(before)).toBe(true);

    // Over the per-request limit (1 MiB on this server): nothing of it is written.
    const small = await startSimServer({ app: { maxTransferBytes: MiB } });
    try {
      const w = (await small.client().send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
      expect(await chunked(0, junk, small.endpoint, w)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
      expect((await getBytes(small.endpoint, w, 0, MiB)).equals(Buffer.alloc(MiB))).toBe(true);
      const fits = junk.subarray(0, MiB);
      expect((await chunked(5, fits, small.endpoint, w)).status).toBe(200); // at the limit: accepted
      expect((await getBytes(small.endpoint, w, 5, MiB)).equals(fits)).toBe(true);
    } finally {
      await small.close();
    }
  });

  it('refuses a PUT whose offset is absent or empty, and writes nothing', async () => {
    const v = await volume();
    for (const q of ['', '?offset=', '?length=4']) {
      const res = await fetch(`${s.endpoint}/data/volumes/${v}${q}`, { method: 'PUT', body: Buffer.from('data') });
      expect([res.status, ((await res.json()) as { code: string }).code], q).toEqual([400, 'MISSING_PARAMETER']);
    }
    expect((await getBytes(s.endpoint, v, 0, 4)).equals(Buffer.alloc(4))).toBe(true);
  });

  it('answers a read that fails with its own code, not a 500 about the payload', async () => {
    const v = await volume();
    // The core failing the read (a restored volume whose snapshot the store lost, say).
    const read = vi.spyOn(s.sim.services.volumes, 'read').mockRejectedValue(new CoreError('BACKING_UNAVAILABLE', 'snapshot snap-1 has no manifest in the object store'));
    try {
      for (const length of [4096, 20 * MiB]) { // one piece, and a streamed read that fails at its first piece
        const res = await fetch(`${s.endpoint}/data/volumes/${v}?offset=0&length=${length}`);
        expect([res.status, res.headers.get('content-type')]).toEqual([503, 'application/json; charset=utf-8']);
        expect(await res.json()).toEqual({ code: 'BACKING_UNAVAILABLE', message: 'snapshot snap-1 has no manifest in the object store' });
      }
    } finally {
      read.mockRestore();
    }
  });

  it('reads into reused buffers: concurrent reads stay exact, and a read whose client left keeps its buffer until it ends', async () => {
    const v = await volume();
    const data = new Rng(11).bytes(24 * MiB);
    expect((await putBytes(s.endpoint, v, 0, data)).status).toBe(200);
    const rng = new Rng(12);
    const ranges = Array.from({ length: 24 }, () => {
      const length = rng.int(1, 8 * MiB);
      return { offset: rng.int(0, data.length - length), length };
    });
    const got = await Promise.all(ranges.map((r) => getBytes(s.endpoint, v, r.offset, r.length)));
    ranges.forEach((r, i) => expect(got[i]!.equals(data.subarray(r.offset, r.offset + r.length)), `range ${i}`).toBe(true));

    // A read held inside the server while its client goes away.
    const real = s.sim.services.volumes.read.bind(s.sim.services.volumes);
    const buffersUsed: ArrayBufferLike[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldBuffer: ArrayBufferLike | undefined;
    let heldDone = false;
    const read = vi.spyOn(s.sim.services.volumes, 'read').mockImplementation(async (who, id, offset, length, into) => {
      if (heldBuffer === undefined) {
        heldBuffer = into!.buffer;
        await held;
        const out = await real(who, id, offset, length, into);
        heldDone = true;
        return out;
      }
      buffersUsed.push(into!.buffer);
      return real(who, id, offset, length, into);
    });
    try {
      const connections = () => new Promise<number>((resolve, reject) => s.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
      // A client of its own connection, gone while the server reads for it.
      const gone = httpGet(`${s.endpoint}/data/volumes/${v}?offset=0&length=${8 * MiB}`, { agent: false });
      gone.on('error', () => undefined);
      while (heldBuffer === undefined) await new Promise((resolve) => setImmediate(resolve));
      const before = await connections();
      gone.destroy();
      while ((await connections()) >= before) await new Promise((resolve) => setImmediate(resolve)); // the server saw it close
      for (let i = 0; i < 6; i++) {
        const at = (i % 3) * 8 * MiB;
        expect((await getBytes(s.endpoint, v, at, 8 * MiB)).equals(data.subarray(at, at + 8 * MiB))).toBe(true);
      }
      expect(buffersUsed.length).toBe(6);
      expect(new Set(buffersUsed).size).toBeLessThan(6); // one after another, they reuse buffers
      expect(buffersUsed).not.toContain(heldBuffer); // not handed on while its read still runs
      release();
      while (!heldDone) await new Promise((resolve) => setImmediate(resolve));
      expect((await getBytes(s.endpoint, v, 8 * MiB, 8 * MiB)).equals(data.subarray(8 * MiB, 16 * MiB))).toBe(true);
    } finally {
      release();
      read.mockRestore();
    }
  });

  it('answers JSON errors: 404 unknown volume, 400 bad input, 416 out of range, 413 too large, 409 wrong state', async () => {
    const v = await volume(4);
    const call = async (method: string, path: string, body?: Buffer) => {
      const res = await fetch(`${s.endpoint}${path}`, { method, ...(body ? { body } : {}) });
      return { status: res.status, body: (await res.json()) as { code: string; message: string }, range: res.headers.get('content-range') };
    };
    expect(await call('GET', '/data/volumes/vol-0123456789abcdef0?offset=0&length=1')).toMatchObject({ status: 404, body: { code: 'VOLUME_NOT_FOUND' } });
    expect(await call('PUT', '/data/volumes/vol-0123456789abcdef0?offset=0', Buffer.alloc(1))).toMatchObject({ status: 404 });
    expect(await call('POST', '/data/volumes/vol-0123456789abcdef0/flush')).toMatchObject({ status: 404 });
    expect(await call('GET', '/data/volumes/vol-nope?offset=0&length=1')).toMatchObject({ status: 400, body: { code: 'VOLUME_ID_MALFORMED' } });
    expect(await call('GET', `/data/volumes/${v}?offset=0`)).toMatchObject({ status: 400, body: { code: 'MISSING_PARAMETER' } });
    expect(await call('GET', `/data/volumes/${v}?offset=-1&length=1`)).toMatchObject({ status: 400, body: { code: 'INVALID_PARAMETER_VALUE' } });
    expect(await call('GET', `/data/volumes/${v}?offset=${4 * GiB - 1}&length=2`)).toMatchObject({ status: 416, body: { code: 'OFFSET_OUT_OF_RANGE' }, range: `bytes */${4 * GiB}` });
    expect(await call('PUT', `/data/volumes/${v}?offset=${4 * GiB - 1}`, Buffer.alloc(2))).toMatchObject({ status: 416 });
    const big = await call('GET', `/data/volumes/${v}?offset=0&length=${GiB + 1}`);
    expect(big).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(big.body.message).toMatch(/limited to 1073741824 bytes/);
    expect((await getBytes(s.endpoint, v, 4 * GiB - 1, 1)).length).toBe(1); // the last byte is in range

    const meta = s.sim.catalog.getVolume(v)!;
    s.sim.catalog.setVolume({ ...meta, state: 'creating' });
    try {
      expect(await call('PUT', `/data/volumes/${v}?offset=0`, Buffer.alloc(1))).toMatchObject({ status: 409, body: { code: 'INCORRECT_STATE' } });
      expect(await call('GET', `/data/volumes/${v}?offset=0&length=1`)).toMatchObject({ status: 409 });
    } finally {
      s.sim.catalog.setVolume(meta);
    }
    expect(await call('GET', '/no/such/route')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });

  it('health is 200 once ready; reset is not there without --allow-reset', async () => {
    const health = await fetch(`${s.endpoint}/_ebs-sim/health`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    expect((await fetch(`${s.endpoint}/_ebs-sim/reset`, { method: 'POST' })).status).toBe(404);
  });
});
