/**
 * The copy as users get it: through a real `ebs-sim serve` (the build in dist/, on its defaults but
 * for the directories), 1 GiB of unique data written through the data plane, CreateSnapshot, and
 * DescribeSnapshots polled until `completed`. Beside it, in the same run and on the same disk:
 *  - a single-threaded loop of plain file writes of the same 512 KiB blocks (target: >= 1.0);
 *  - `dd` copying a 1 GiB file to another file, 512 KiB at a time (aim: >= 0.9).
 * Rounds alternate the three, so that a slow phase of this shared machine hits them all; each
 * round's ratios are printed, and a round below the target is named.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GiB } from '../src/core/block-store.js';
import { serve } from './served.js';
import { BLOCK, fmtMBs, Report, tempDir, type BlockSource } from './support.js';

const ROUNDS = 3;
const BLOCKS = GiB / BLOCK;
const POLL_MS = 20;

export async function servedCopy(report: Report, source: BlockSource, settle: () => void): Promise<void> {
  const root = tempDir('served');
  const server = await serve(root.dir);
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 1 });
  try {
    const rounds: Array<{ served: number; plain: number; dd: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const salt = 9_000_000 + r * BLOCKS;

      // Plain writes of the same blocks, one after another, each a new file.
      const plainDir = join(root.dir, `plain-${r}`);
      await mkdir(plainDir);
      settle();
      let t = performance.now();
      for (let i = 0; i < BLOCKS; i++) writeFileSync(join(plainDir, `block-${i}`), source.block(salt + i));
      const plain = GiB / ((performance.now() - t) / 1000);

      // dd: the same bytes, file to file.
      const from = join(root.dir, `dd-in-${r}`);
      const file = await open(from, 'w');
      for (let i = 0; i < BLOCKS; i++) await file.write(source.block(salt + i));
      await file.close();
      settle();
      t = performance.now();
      execFileSync('dd', [`if=${from}`, `of=${join(root.dir, `dd-out-${r}`)}`, 'bs=512K', 'status=none']);
      const dd = GiB / ((performance.now() - t) / 1000);

      // Through the server: written untimed, then snapshotted and polled until completed.
      const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
      // The source reuses its few buffers: each block is copied into a ring of its own, larger
      // than what the upload holds in flight, so that no 1 GiB of copies piles up for the GC.
      const ring = Array.from({ length: 128 }, () => Buffer.allocUnsafe(BLOCK));
      const body = Readable.from((function* () {
        for (let i = 0; i < BLOCKS; i++) {
          const b = ring[i % ring.length]!;
          source.block(salt + i).copy(b);
          yield b;
        }
      })(), { highWaterMark: 4 });
      const put = await fetch(`${server.endpoint}/data/volumes/${volumeId}?offset=0`, {
        method: 'PUT', body: Readable.toWeb(body) as ReadableStream, duplex: 'half', headers: { 'content-length': String(GiB) },
      } as RequestInit);
      if (put.status !== 200) throw new Error(`data-plane write: ${put.status} ${await put.text()}`);
      settle();
      t = performance.now();
      const snapshotId = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
      for (;;) {
        const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0]!;
        if (s.State === 'completed') break;
        if (s.State === 'error') throw new Error(`snapshot failed: ${s.StateMessage}`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      const served = GiB / ((performance.now() - t) / 1000);
      rounds.push({ served, plain, dd });
      const below = served / plain < 1 ? '  <- below the target' : '';
      console.log(`  served copy round ${r + 1}: ${fmtMBs(served)}, plain writes ${fmtMBs(plain)} (${(served / plain).toFixed(2)}), dd ${fmtMBs(dd)} (${(served / dd).toFixed(2)})${below}`);
    }
    const median = <T>(xs: T[], key: (x: T) => number) => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
    const byPlain = median(rounds, (x) => x.served / x.plain);
    const below = rounds.filter((x) => x.served / x.plain < 1).length;
    report.add({
      figure: `copy through ebs-sim serve, 1 GiB to fs (median of ${ROUNDS} rounds; polled every ${POLL_MS} ms)`,
      ours: `${fmtMBs(byPlain.served)} (round ratios ${rounds.map((x) => (x.served / x.plain).toFixed(2)).join(', ')}${below ? `; ${below} below` : ''})`,
      baseline: `${fmtMBs(byPlain.plain)} single-threaded plain file writes`,
      ratio: byPlain.served / byPlain.plain,
      target: 'ratio >= 1.0',
      met: byPlain.served / byPlain.plain >= 1,
    });
    const byDd = median(rounds, (x) => x.served / x.dd);
    report.add({
      figure: 'copy through ebs-sim serve vs a dd file-to-file copy of the same bytes',
      ours: `${fmtMBs(byDd.served)} (round ratios ${rounds.map((x) => (x.served / x.dd).toFixed(2)).join(', ')})`,
      baseline: `${fmtMBs(byDd.dd)} dd bs=512K`,
      ratio: byDd.served / byDd.dd,
      target: 'aim >= 0.9',
      met: byDd.served / byDd.dd >= 0.9,
    });
  } finally {
    ec2.destroy();
    await server.stop();
    root.remove();
  }
}
