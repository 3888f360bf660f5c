/**
 * NBD benchmarks, against qemu-nbd serving a raw file in the same run:
 *  - NBD write: `qemu-img convert` of 1 GiB of random data into an ebs-sim volume over NBD;
 *  - random writes: `qemu-img bench -w` with 4 KiB random writes, IOPS;
 *  - memory: our peak RSS while 1 GiB streams through NBD (qemu-img runs in its own process);
 *  - the same conversion through an instance's export (`<instance>/<device>`: the simulated page
 *    cache with its default settings, written back at its dirty limit and at qemu-img's final
 *    flush) of a real `ebs-sim serve --nbd-port` process, with that process's sampled peak RSS.
 * Needs qemu-utils (qemu-img, qemu-nbd). Run: npm run bench -- nbd
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync, writeSync, ftruncateSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BlockStore, GiB } from '../src/core/block-store.js';
import { VolumeDevice } from '../src/guest/volume-device.js';
import { startNbdServer } from '../src/nbd/server.js';
import { EC2Client, RunInstancesCommand, waitUntilInstanceRunning } from '@aws-sdk/client-ec2';
import { startCliServer } from '../test/support/cli-server.js';
import { fmtMB, fmtMBs, MemoryWatch, Report, tempDir } from './support.js';

const IMAGE_BYTES = GiB;
const BENCH_WRITES = 20_000;

export async function runNbdBench(): Promise<Report> {
  const report = new Report('NBD');
  if (spawnSync('qemu-img', ['--version']).status !== 0 || spawnSync('qemu-nbd', ['--version']).status !== 0) {
    console.log('  skipped: qemu-img / qemu-nbd not installed (apt-get install qemu-utils)');
    return report;
  }
  const work = tempDir('nbd');
  const image = join(work.dir, 'source.raw');
  writeRandomImage(image, IMAGE_BYTES);
  const memory = new MemoryWatch();
  try {
    // Baseline: qemu-nbd exporting a raw file of the same size.
    const target = join(work.dir, 'target.raw');
    createSparseFile(target, IMAGE_BYTES);
    const qemuPort = await freePort();
    const qemuNbd = spawn('qemu-nbd', ['-f', 'raw', '-p', String(qemuPort), '-b', '127.0.0.1', '-x', 'disk', '-t', target]);
    await waitForPort(qemuPort);
    const baseline = time(() => qemuImg(['convert', '-n', '-f', 'raw', '-O', 'raw', image, `nbd://127.0.0.1:${qemuPort}/disk`]));
    const baseIops = qemuBench(`nbd://127.0.0.1:${qemuPort}/disk`);
    qemuNbd.kill();

    // Ours: the same conversion into a volume, over our NBD server, in this process.
    const store = await BlockStore.open(join(work.dir, 'data'), { writeBufferSize: 32 * 1024 * 1024 });
    const vol = await store.createVolume({ size: IMAGE_BYTES });
    const server = await startNbdServer({
      host: '127.0.0.1',
      port: 0,
      resolver: {
        open: async (name) => (name === vol.id ? new VolumeDevice(store, vol.id) : undefined),
        list: async () => [{ name: vol.id }],
      },
    });
    const url = `nbd://127.0.0.1:${server.port}/${vol.id}`;
    const ours = await timeAsync(() => qemuImgAsync(['convert', '-n', '-f', 'raw', '-O', 'raw', image, url]));
    memory.now('1 GiB through NBD');
    const rss = memory.stop();
    const compare = await qemuImgAsync(['compare', '-f', 'raw', '-F', 'raw', image, url]);
    if (compare !== 0) throw new Error('the volume does not match the source image after the conversion');
    const oursIops = await qemuBenchAsync(url);
    await server.close();
    await store.close();

    report.add({
      figure: 'NBD write: qemu-img convert of 1 GiB random data',
      ours: fmtMBs(IMAGE_BYTES / (ours / 1000)),
      baseline: `${fmtMBs(IMAGE_BYTES / (baseline / 1000))} qemu-nbd raw file`,
      ratio: baseline / ours,
      target: 'ratio >= 0.5 (aim 1.0)',
      met: baseline / ours >= 0.5,
    });
    report.add({
      figure: `random 4 KiB writes (qemu-img bench -w, ${BENCH_WRITES} requests, depth 16)`,
      ours: `${oursIops.toFixed(0)} IOPS`,
      baseline: `${baseIops.toFixed(0)} IOPS qemu-nbd`,
      ratio: oursIops / baseIops,
      target: 'report',
      met: undefined,
    });
    report.add({
      figure: 'peak RSS of the server while 1 GiB streams through NBD',
      ours: `${fmtMB(rss.peakRss)} (anon ${fmtMB(rss.peakAnon)}, file-backed ${fmtMB(rss.peakFile)})`,
      baseline: '300 MB budget',
      ratio: rss.peakRss / 300e6,
      target: 'peak RSS < 300 MB',
      met: rss.peakRss < 300e6,
    });

    const viaInstance = await convertThroughInstance(image);
    report.add({
      figure: 'NBD write through an instance export of ebs-sim serve (page cache, default settings)',
      ours: `${fmtMBs(IMAGE_BYTES / (viaInstance.ms / 1000))}, sampled peak RSS ${fmtMB(viaInstance.peakRss)}`,
      baseline: `${fmtMBs(IMAGE_BYTES / (baseline / 1000))} qemu-nbd raw file`,
      ratio: baseline / viaInstance.ms,
      target: 'report; peak RSS < 300 MB',
      met: viaInstance.peakRss < 300e6,
    });
  } finally {
    work.remove();
  }
  return report;
}

/**
 * qemu-img convert into `<instance>/sdf` of a real `ebs-sim serve --nbd-port` (its own process,
 * whose memory is sampled), with the instance made through the EC2 API; then compare.
 */
async function convertThroughInstance(image: string): Promise<{ ms: number; peakRss: number }> {
  const nbdPort = await freePort();
  const server = await startCliServer(['--nbd-port', String(nbdPort)], 30_000, { compiled: true });
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  try {
    const run = await ec2.send(new RunInstancesCommand({
      ImageId: 'ami-bench', MinCount: 1, MaxCount: 1,
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: IMAGE_BYTES / GiB } }],
    }));
    const instanceId = run.Instances![0]!.InstanceId!;
    await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 30, minDelay: 0.2, maxDelay: 0.5 }, { InstanceIds: [instanceId] });
    const url = `nbd://127.0.0.1:${nbdPort}/${instanceId}/sdf`;
    const watch = new MemoryWatch(server.child.pid);
    const ms = await timeAsync(() => qemuImgAsync(['convert', '-n', '-f', 'raw', '-O', 'raw', image, url]));
    const { peakAnon, peakFile } = watch.stop();
    if ((await qemuImgAsync(['compare', '-f', 'raw', '-F', 'raw', image, url])) !== 0) throw new Error('the instance device does not match the source image');
    return { ms, peakRss: peakAnon + peakFile };
  } finally {
    ec2.destroy();
    await server.stop();
  }
}

function writeRandomImage(path: string, bytes: number) {
  const fd = openSync(path, 'w');
  const chunk = 4 * 1024 * 1024;
  for (let at = 0; at < bytes; at += chunk) writeSync(fd, randomBytes(chunk));
  closeSync(fd);
}

function createSparseFile(path: string, bytes: number) {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

function qemuImg(args: string[]) {
  const r = spawnSync('qemu-img', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.toString();
}

/** Runs qemu-img as a child without blocking this process's event loop (our server runs here). */
function qemuImgAsync(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-img', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      lastOutput = out;
      resolve(code ?? 1);
    });
  });
}
let lastOutput = '';

function benchArgs(url: string) {
  return ['bench', '-w', '-f', 'raw', '-c', String(BENCH_WRITES), '-d', '16', '-s', '4K', '-S', '1M', '-n', url];
}

function parseBench(output: string): number {
  const m = /Run completed in ([\d.]+) seconds/.exec(output);
  if (!m) throw new Error(`unexpected qemu-img bench output: ${output}`);
  return BENCH_WRITES / Number(m[1]);
}

function qemuBench(url: string): number {
  return parseBench(qemuImg(benchArgs(url)));
}

async function qemuBenchAsync(url: string): Promise<number> {
  const code = await qemuImgAsync(benchArgs(url));
  if (code !== 0) throw new Error('qemu-img bench failed');
  return parseBench(lastOutput);
}

function time(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function timeAsync(fn: () => Promise<number>): Promise<number> {
  const t = performance.now();
  const code = await fn();
  if (code !== 0) throw new Error('qemu-img failed');
  return performance.now() - t;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

async function waitForPort(port: number) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true)); // in use: qemu-nbd is listening
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`qemu-nbd did not listen on ${port}`);
}
