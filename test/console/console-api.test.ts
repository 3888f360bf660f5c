/**
 * The console's JSON endpoints over real HTTP: where browsers land, block maps (a 16 TiB volume
 * drawn in at most 4,096 cells from what was written), Compare against ListChangedBlocks, what a
 * deletion frees and keeps, and accounts under --auth sigv4.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EBSClient, ListChangedBlocksCommand } from '@aws-sdk/client-ebs';
import { CreateSnapshotCommand, CreateVolumeCommand, ModifySnapshotAttributeCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCredentialsFile } from '../../src/server/auth.js';
import { putBytes, startSimServer, type SimServer } from '../support/sim-server.js';
import { tempDir } from '../support/temp-dir.js';

const BLOCK = 512 * 1024;

interface Cell { cell: number; written: number; dirty: number; fresh: number; epoch?: number }
interface Map { cellCount: number; blocksPerCell: number; totalBlocks: number; cells: Cell[]; totals: { written: number; fresh: number; shared: number } }

describe('console API, --auth none', () => {
  let s: SimServer;
  beforeAll(async () => {
    s = await startSimServer();
  });
  afterAll(async () => s.close());

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${s.endpoint}/console/api/${path}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as T;
  };
  const snapshot = async (volumeId: string) => {
    const id = (await s.client().send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    await s.sim.engine.statuses.settled(id);
    return id;
  };

  it('sends browsers to /console/ and leaves EC2 requests on /', async () => {
    const html = await fetch(`${s.endpoint}/`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    expect([html.status, html.headers.get('location')]).toEqual([302, '/console/']);
    const plain = await fetch(`${s.endpoint}/`);
    expect(await plain.text()).toContain('<Code>MissingAction</Code>');
    const query = await fetch(`${s.endpoint}/?Action=DescribeVolumes&Version=2016-11-15`, { headers: { accept: 'text/html' } });
    expect([query.status, (await query.text()).includes('DescribeVolumesResponse')]).toEqual([200, true]);
    const page = await fetch(`${s.endpoint}/console/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/console/vendor/uplot.js');
    const uplot = await fetch(`${s.endpoint}/console/vendor/uplot.js`);
    expect([uplot.status, (await uplot.text()).includes('uPlot')]).toEqual([200, true]);
  });

  it('draws a 16 TiB volume in at most 4,096 cells, from the blocks written', async () => {
    const v = (await s.client().send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 16384, VolumeType: 'gp3' }))).VolumeId!;
    const far = 16 * 1024 ** 4 - BLOCK; // the last block
    for (const offset of [0, 5 * BLOCK, far]) expect((await putBytes(s.endpoint, v, offset, Buffer.from('x'))).status).toBe(200);
    const map = await get<Map>(`volumes/${v}/blockmap`);
    expect(map.totalBlocks).toBe(32 * 1024 * 1024);
    expect(map.cellCount).toBeLessThanOrEqual(4096);
    expect(map.blocksPerCell).toBe(8192);
    expect(map.cells.map((c) => [c.cell, c.written])).toEqual([[0, 2], [4095, 1]]);
  });

  it("a snapshot's blocks: new in it against shared with its parent; Compare gives ListChangedBlocks' answer", async () => {
    const v = (await s.client().send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    for (const b of [0, 1, 2]) await putBytes(s.endpoint, v, b * BLOCK, Buffer.from(`one ${b}`));
    const s1 = await snapshot(v);
    for (const b of [2, 7]) await putBytes(s.endpoint, v, b * BLOCK, Buffer.from(`two ${b}`));
    const s2 = await snapshot(v);
    const map = await get<Map>(`snapshots/${s2}/blockmap`);
    expect(map.totals).toMatchObject({ written: 4, fresh: 2, shared: 2 });
    expect(map.cells.filter((c) => c.fresh > 0).map((c) => c.cell)).toEqual([2, 7]);
    const detail = await get<{ parent: { snapshotId: string }; blocks: unknown }>(`snapshots/${s2}`);
    expect(detail.parent.snapshotId).toBe(s1);
    expect(detail.blocks).toEqual({ written: 4, fresh: 2, shared: 2 });

    const compare = await get<{ changedBlocks: number[] }>(`compare?first=${s1}&second=${s2}`);
    const ebs = new EBSClient({ region: 'us-east-1', endpoint: s.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const listed = await ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: s1, SecondSnapshotId: s2 }));
    ebs.destroy();
    expect(compare.changedBlocks).toEqual(listed.ChangedBlocks!.map((b) => b.BlockIndex));
    expect(compare.changedBlocks).toEqual([2, 7]);
  });

  it('deleting a middle snapshot reports what it freed and kept (the deadlist rule)', async () => {
    const v = (await s.client().send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    for (const b of [0, 1]) await putBytes(s.endpoint, v, b * BLOCK, Buffer.from('a'));
    await snapshot(v);
    for (const b of [1, 2, 3]) await putBytes(s.endpoint, v, b * BLOCK, Buffer.from('b'));
    const middle = await snapshot(v);
    await putBytes(s.endpoint, v, 3 * BLOCK, Buffer.from('c'));
    await snapshot(v);
    const res = await fetch(`${s.endpoint}/console/api/actions/delete-snapshot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ snapshotId: middle }) });
    expect(await res.json()).toEqual({ snapshotId: middle, deleted: true, freedBlocks: 1, keptBlocks: 2, sharedWithParent: 1 });
  });

  it("keeps each copy's progress over time, whether or not a console watched it", async () => {
    // One upload at a time (uploads in parallel share the rate and finish together): 6 blocks at 1 MiB/s, one every half second.
    const one = await startSimServer({ sim: { copyConcurrency: 1 } });
    try {
      const v = (await one.client().send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
      await putBytes(one.endpoint, v, 0, Buffer.concat(Array.from({ length: 6 }, (_, i) => Buffer.alloc(BLOCK, i + 1))));
      one.sim.controls.setCopyRate(1024 * 1024);
      const id = (await one.client().send(new CreateSnapshotCommand({ VolumeId: v }))).SnapshotId!;
      await one.sim.engine.statuses.settled(id);
      const res = await fetch(`${one.endpoint}/console/api/snapshots/${id}/history`);
      const { samples } = (await res.json()) as { samples: Array<{ t: number; progress: number; bytesUploaded: number }> };
      // A checkpoint per block between the start (0) and the end (100), over the 3 s the rate makes the copy last.
      const between = samples.filter((x) => x.progress > 0 && x.progress < 100);
      expect(between.length, JSON.stringify(samples)).toBeGreaterThanOrEqual(4);
      expect(samples[samples.length - 1]!.t - samples[0]!.t).toBeGreaterThanOrEqual(2500);
      expect(samples[samples.length - 1]!.progress).toBe(100);
      expect(samples[samples.length - 1]!.bytesUploaded).toBe(6 * BLOCK);
      for (let i = 1; i < samples.length; i++) {
        expect(samples[i]!.progress).toBeGreaterThanOrEqual(samples[i - 1]!.progress);
        expect(samples[i]!.t).toBeGreaterThanOrEqual(samples[i - 1]!.t);
      }
    } finally {
      await one.close();
    }
  });

  it('answers errors as JSON codes', async () => {
    const res = await fetch(`${s.endpoint}/console/api/volumes/vol-0123456789abcdef0/blockmap`);
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([404, 'VOLUME_NOT_FOUND']);
    const action = await fetch(`${s.endpoint}/console/api/actions/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(action.status).toBe(404);
  });
});

describe('console API, --auth sigv4', () => {
  let s: SimServer;
  let tmp: ReturnType<typeof tempDir>;
  const ALICE = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', accountId: '111111111111' };
  const BOB = { accessKeyId: 'AKIABOB', secretAccessKey: 'bob-secret', accountId: '222222222222' };

  beforeAll(async () => {
    tmp = tempDir();
    const file = join(tmp.dir, 'credentials.json');
    writeFileSync(file, JSON.stringify({ credentials: [ALICE, BOB] }));
    s = await startSimServer({ app: { auth: 'sigv4', credentials: loadCredentialsFile(file) } });
  });
  afterAll(async () => {
    await s.close();
    tmp.remove();
  });

  const signIn = async (key: { accessKeyId: string; secretAccessKey: string }) =>
    fetch(`${s.endpoint}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(key) });

  it("asks for keys, and shows only the signed-in account's resources", async () => {
    expect((await fetch(`${s.endpoint}/console/api/overview`)).status).toBe(403);
    expect((await signIn({ ...ALICE, secretAccessKey: 'wrong' })).status).toBe(403);
    const ok = await signIn(ALICE);
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    const v = (await s.client(ALICE).send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await s.client(BOB).send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    const o = (await (await fetch(`${s.endpoint}/console/api/overview`, { headers: { cookie } })).json()) as { accountId: string; volumes: Array<{ volumeId: string }> };
    expect(o.accountId).toBe(ALICE.accountId);
    expect(o.volumes.map((x) => x.volumeId)).toEqual([v]);
    const session = (await (await fetch(`${s.endpoint}/console/api/session`, { headers: { cookie } })).json()) as { signedIn: boolean; accountId: string };
    expect(session).toMatchObject({ signedIn: true, accountId: ALICE.accountId });
  });

  it("runs a lab with the session's keys: its requests are signed, its volumes the signed-in account's", async () => {
    const cookie = (await signIn(BOB)).headers.get('set-cookie')!.split(';')[0]!;
    const post = (path: string) => fetch(`${s.endpoint}/console/api/${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
    const { runId } = (await (await post('labs/incremental/runs')).json()) as { runId: string };
    let out: { done: boolean; claimHeld?: boolean; error?: string };
    do out = (await (await post(`labs/runs/${runId}/step`)).json()) as typeof out;
    while (!out.done);
    expect(out.error).toBeUndefined();
    expect(out.claimHeld).toBe(true);
    const o = (await (await fetch(`${s.endpoint}/console/api/overview`, { headers: { cookie } })).json()) as { volumes: unknown[] };
    expect(o.volumes.length).toBeGreaterThan(1); // the lab's volume and its restores, in Bob's account
  });

  it("a snapshot shared with another account shows it none of the owner's other snapshots, and nothing else of the owner's", async () => {
    const alice = s.client(ALICE);
    const v = (await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const snap = async (description: string) => {
      const id = (await alice.send(new CreateSnapshotCommand({ VolumeId: v, Description: description }))).SnapshotId!;
      await s.sim.engine.statuses.settled(id);
      return id;
    };
    const put = (block: number, text: string) => s.sim.services.volumes.write({ accountId: ALICE.accountId }, v, block * BLOCK, Buffer.from(text));
    await put(0, 'one');
    const before = await snap('alice-private-before');
    await put(1, 'two');
    const shared = await snap('alice-shared');
    await put(2, 'three');
    const after = await snap('alice-private-after');
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: shared, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [BOB.accountId] }));

    const cookie = (await signIn(BOB)).headers.get('set-cookie')!.split(';')[0]!;
    const get = (path: string) => fetch(`${s.endpoint}/console/api/${path}`, { headers: { cookie } });
    const hidden = [before, after, 'alice-private-before', 'alice-private-after'];
    for (const path of [`snapshots/${shared}`, `snapshots/${shared}/blockmap`, `snapshots/${shared}/blockmap?maxCells=1`, `snapshots/${shared}/history`]) {
      const res = await get(path);
      const body = await res.text();
      expect(res.status, body).toBe(200);
      for (const secret of hidden) expect(body, `${path} shows ${secret}`).not.toContain(secret);
    }
    const detail = (await (await get(`snapshots/${shared}`)).json()) as { snapshot: { description: string }; lineage: Array<{ snapshotId: string }> };
    expect(detail.snapshot.description).toBe('alice-shared');
    expect(detail.lineage.map((x) => x.snapshotId)).toEqual([shared]);

    for (const path of [`snapshots/${before}`, `snapshots/${after}/blockmap`, `snapshots/${before}/history`, `volumes/${v}/blockmap`, `compare?first=${before}&second=${shared}`]) {
      const res = await get(path);
      const body = await res.text();
      expect(res.status, `${path}: ${body}`).toBeGreaterThanOrEqual(400);
      for (const secret of ['alice-private-before', 'alice-private-after']) expect(body).not.toContain(secret);
    }
    const act = (name: string, body: object) => fetch(`${s.endpoint}/console/api/actions/${name}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const [name, body] of [['delete-snapshot', { snapshotId: shared }], ['delete-snapshot', { snapshotId: before }], ['write', { volumeId: v, text: 'bob' }], ['snapshot', { volumeId: v }], ['delete-volume', { volumeId: v }]] as const) {
      const res = await act(name, body);
      expect(res.status, `${name} ${JSON.stringify(body)}: ${await res.clone().text()}`).toBeGreaterThanOrEqual(400);
      expect(await res.text()).not.toMatch(/freedBlocks|keptBlocks/);
    }
    expect(s.sim.catalog.getSnapshot(shared)).toBeDefined();
    expect(s.sim.catalog.getSnapshot(before)).toBeDefined();
  });
});
