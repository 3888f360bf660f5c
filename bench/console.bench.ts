/**
 * The web console's data endpoints, through a real `ebs-sim serve` (the build in dist/):
 *  - a 16 TiB volume with 20,000 written blocks (spread over the whole volume, in four snapshot
 *    epochs): its block map, and its last snapshot's detail and block map. Target: under 100 ms
 *    each. Baseline: the block map of a 1 GiB volume with every block written (2,048 blocks);
 *    the 16 TiB map should cost the same order, since it costs what was written, not the size.
 *  - an account with 1,000 volumes and 10,000 snapshots: the overview. Target: under 1 s.
 *    Baseline: DescribeSnapshots of the same 10,000 snapshots over the EC2 API.
 * Each figure is the p50 of 15 calls after 2 warm-ups. The server keeps each volume's last scan of its epoch index
 * and rescans only the generations that can have changed, so two more figures: the first look at the volume (a full
 * scan, one call) and a look right after a write (the map rebuilt; p50 of 9, a new block written before each).
 */
import { serve } from './served.js';
import { fmtMs, Report, tempDir } from './support.js';

const TiB_BLOCKS = (16 * 1024 * 1024) / 0.5; // 16 TiB of 512 KiB blocks
const WRITTEN = Number(process.env.EBS_SIM_BENCH_CONSOLE_BLOCKS ?? 20_000);
const VOLUMES = Number(process.env.EBS_SIM_BENCH_CONSOLE_VOLUMES ?? 1_000);
const SNAPSHOTS = Number(process.env.EBS_SIM_BENCH_CONSOLE_SNAPSHOTS ?? 10_000);
const BLOCK = 512 * 1024;

async function ec2(endpoint: string, params: Record<string, string>): Promise<string> {
  for (;;) {
    const res = await fetch(`${endpoint}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ Version: '2016-11-15', ...params }) });
    const text = await res.text();
    if (res.status === 200) return text;
    if (/ConcurrentSnapshotLimitExceeded|RequestLimitExceeded|SnapshotCreationPerVolumeRateExceeded/.test(text)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    throw new Error(`${params.Action}: ${res.status} ${text}`);
  }
}
const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)![1]!;

async function parallel(n: number, width: number, each: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    for (let i = next++; i < n; i = next++) await each(i);
  }));
}

async function p50(call: () => Promise<unknown>, runs = 15): Promise<number> {
  for (let i = 0; i < 2; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** p50 of `call` right after `change` each time (not timed): a cold answer, no cache can help. */
async function p50After(change: (i: number) => Promise<unknown>, call: () => Promise<unknown>, runs = 9): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await change(i);
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function waitSettled(endpoint: string): Promise<void> {
  for (;;) {
    const xml = await ec2(endpoint, { Action: 'DescribeSnapshots', 'Owner.1': 'self', 'Filter.1.Name': 'status', 'Filter.1.Value.1': 'pending', MaxResults: '5' });
    if (!xml.includes('<snapshotId>')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function consoleBench(): Promise<Report> {
  const report = new Report('console data endpoints');
  const root = tempDir('console');
  const server = await serve(root.dir);
  const E = server.endpoint;
  try {
    // A 16 TiB volume, WRITTEN blocks spread over it, a snapshot after each quarter.
    const big = tag(await ec2(E, { Action: 'CreateVolume', AvailabilityZone: 'us-east-1a', Size: '16384', VolumeType: 'gp3' }), 'volumeId');
    const stride = Math.floor(TiB_BLOCKS / WRITTEN);
    let lastSnap = '';
    const t0 = performance.now();
    for (let q = 0; q < 4; q++) {
      const from = Math.floor((q * WRITTEN) / 4);
      const to = Math.floor(((q + 1) * WRITTEN) / 4);
      await parallel(to - from, 16, async (k) => {
        const i = from + k;
        const res = await fetch(`${E}/data/volumes/${big}?offset=${i * stride * BLOCK}`, { method: 'PUT', body: Buffer.alloc(4096, `${i}:${Math.random()}`) });
        if (res.status !== 200) throw new Error(`write: ${res.status} ${await res.text()}`);
      });
      lastSnap = tag(await ec2(E, { Action: 'CreateSnapshot', VolumeId: big }), 'snapshotId');
    }
    await waitSettled(E);
    console.log(`  16 TiB volume with ${WRITTEN} written blocks and 4 snapshots made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // The baseline: a 1 GiB volume with every block written.
    const small = tag(await ec2(E, { Action: 'CreateVolume', AvailabilityZone: 'us-east-1a', Size: '1' }), 'volumeId');
    await parallel(2048, 16, async (i) => {
      await fetch(`${E}/data/volumes/${small}?offset=${i * BLOCK}`, { method: 'PUT', body: Buffer.alloc(4096, `${i}`) });
    });

    // The first look at the big volume scans its whole epoch index (20,000 keys); later looks rescan what changed.
    const tFirst = performance.now();
    await getJson(`${E}/console/api/volumes/${big}/blockmap`);
    const firstLook = performance.now() - tFirst;
    const baseMap = await p50(() => getJson(`${E}/console/api/volumes/${small}/blockmap`));
    const bigMap = await p50(() => getJson(`${E}/console/api/volumes/${big}/blockmap`));
    const snapDetail = await p50(() => getJson(`${E}/console/api/snapshots/${lastSnap}`));
    const snapMap = await p50(() => getJson(`${E}/console/api/snapshots/${lastSnap}/blockmap`));
    // A new block written before each call: the map is rebuilt, rescanning the current generation's versions.
    const coldMap = await p50After(
      (i) => fetch(`${E}/data/volumes/${big}?offset=${(i * stride + 1) * BLOCK}`, { method: 'PUT', body: Buffer.alloc(4096, 1 + i) }),
      () => getJson(`${E}/console/api/volumes/${big}/blockmap`),
    );
    const cells = ((await getJson(`${E}/console/api/volumes/${big}/blockmap`)) as { cellCount: number }).cellCount;
    const base = `1 GiB volume, 2,048 blocks written: ${fmtMs(baseMap)}`;
    report.add({ figure: `block map, 16 TiB volume, ${WRITTEN} blocks written (${cells} cells)`, ours: fmtMs(bigMap), baseline: base, ratio: bigMap / baseMap, target: '< 100 ms', met: bigMap < 100 });
    report.add({ figure: 'block map, 16 TiB, first look (a full scan, one call)', ours: fmtMs(firstLook), baseline: base, ratio: firstLook / baseMap, target: '< 100 ms', met: firstLook < 100 });
    report.add({ figure: 'block map, 16 TiB, right after a write (rebuilt)', ours: fmtMs(coldMap), baseline: base, ratio: coldMap / baseMap, target: '< 100 ms', met: coldMap < 100 });
    report.add({ figure: 'snapshot detail (lineage, uploaded vs shared), 16 TiB', ours: fmtMs(snapDetail), baseline: base, ratio: snapDetail / baseMap, target: '< 100 ms', met: snapDetail < 100 });
    report.add({ figure: 'snapshot block map, 16 TiB', ours: fmtMs(snapMap), baseline: base, ratio: snapMap / baseMap, target: '< 100 ms', met: snapMap < 100 });

    // An account with VOLUMES volumes and SNAPSHOTS snapshots (of empty volumes: quick copies).
    const t1 = performance.now();
    const vols: string[] = [];
    await parallel(VOLUMES, 8, async () => {
      vols.push(tag(await ec2(E, { Action: 'CreateVolume', AvailabilityZone: 'us-east-1a', Size: '1' }), 'volumeId'));
    });
    await parallel(SNAPSHOTS, 8, async (i) => {
      await ec2(E, { Action: 'CreateSnapshot', VolumeId: vols[i % vols.length]! });
      if (i % 2500 === 2499) console.log(`  ${i + 1} snapshots made`);
    });
    await waitSettled(E);
    console.log(`  ${VOLUMES} volumes and ${SNAPSHOTS} snapshots made in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    let size = 0;
    const overview = await p50(async () => {
      const res = await fetch(`${E}/console/api/overview`);
      size = (await res.arrayBuffer()).byteLength;
    }, 7);
    const describe = await p50(() => ec2(E, { Action: 'DescribeSnapshots', 'Owner.1': 'self' }), 7);
    report.add({
      figure: `overview, ${VOLUMES + 2} volumes and ${SNAPSHOTS + 4} snapshots (${(size / 1e6).toFixed(1)} MB of JSON)`, ours: fmtMs(overview),
      baseline: `DescribeSnapshots of them all over EC2: ${fmtMs(describe)}`, ratio: overview / describe, target: '< 1 s', met: overview < 1000,
    });
    return report;
  } finally {
    await server.stop();
    root.remove();
  }
}
