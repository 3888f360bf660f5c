import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNbdServer, type NbdServer } from '../../src/nbd/server.js';
import { MemoryDevice, memoryResolver, PAGE } from './memory-device.js';
import { hasQemu, nbdUrl, prng, qemuSkipReason, randomBytes, run } from './qemu-tools.js';

const MiB = 1024 * 1024;
const seed = Number(process.env.NBD_TEST_SEED ?? Math.floor(Math.random() * 2 ** 32));

/** 64 MiB of seeded random bytes with zero runs: page-aligned, unaligned, tiny, and a zero tail. */
function seededImage(): { image: Buffer; zeroRuns: Array<[number, number]> } {
  const next = prng(seed);
  const image = randomBytes(64 * MiB, next);
  const zeroRuns: Array<[number, number]> = [
    [4 * MiB, 2 * MiB], // page aligned
    [10 * MiB + 12345, 777_777], // unaligned both ends
    [20 * MiB + 512, 4096], // smaller than a page
    [62 * MiB, 2 * MiB], // the tail
  ];
  for (let i = 0; i < 4; i++) {
    const start = 24 * MiB + (next() % (36 * MiB));
    zeroRuns.push([start, 64 * 1024 + (next() % MiB)]);
  }
  for (const [start, len] of zeroRuns) image.fill(0, start, start + len);
  return { image, zeroRuns };
}

describe.skipIf(!hasQemu)(`qemu-img over NBD${qemuSkipReason}`, () => {
  let dir: string;
  let server: NbdServer;
  const copy = new MemoryDevice(64 * MiB, { blockSize: PAGE, canMultiConn: true });
  const sparse = new MemoryDevice(8 * MiB);
  const { resolver, stats } = memoryResolver({ 'vol-copy': copy, 'vol-sparse': sparse });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebs-sim-nbd-'));
    server = await startNbdServer({ host: '127.0.0.1', port: 0, resolver });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`convert -n writes every byte, and compare agrees (seed ${seed})`, async () => {
    const { image, zeroRuns } = seededImage();
    const src = join(dir, 'source.raw');
    await writeFile(src, image);
    const url = nbdUrl(server.port, 'vol-copy');

    await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', src, url]);
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, url]);

    // Check the device directly too: compare only proves what reads through NBD return.
    expect(copy.contents().equals(image)).toBe(true);
    // qemu-img sends zero runs as WRITE_ZEROES that may punch holes: whole pages inside
    // the page-aligned runs must not be allocated.
    for (const [start, len] of [zeroRuns[0]!, zeroRuns[3]!]) {
      for (let p = start / PAGE; p < (start + len) / PAGE; p++) expect(copy.pages.has(p)).toBe(false);
    }
    // A tampered device must make compare fail, or the check above proves nothing.
    const page0 = copy.pages.get(0)!;
    const flip = () => page0.writeUInt8(page0.readUInt8(100) ^ 0xff, 100);
    flip();
    await expect(run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, url])).rejects.toThrow(/Content mismatch/);
    flip();
  });

  it('map --output=json shows the holes and data ranges of the device', async () => {
    const data = Buffer.alloc(PAGE, 0x11);
    await sparse.write(0, data, { fua: false });
    await sparse.write(1 * MiB, Buffer.concat([data, data, data]), { fua: false });
    await sparse.write(8 * MiB - PAGE, data, { fua: false });

    const { stdout } = await run('qemu-img', ['map', '--output=json', '-f', 'raw', nbdUrl(server.port, 'vol-sparse')]);
    const map = (JSON.parse(stdout) as Array<{ start: number; length: number; data: boolean; zero: boolean }>).map(
      ({ start, length, data, zero }) => ({ start, length, data, zero }),
    );
    expect(map).toEqual([
      { start: 0, length: PAGE, data: true, zero: false },
      { start: PAGE, length: MiB - PAGE, data: false, zero: true },
      { start: MiB, length: 3 * PAGE, data: true, zero: false },
      { start: MiB + 3 * PAGE, length: 7 * MiB - 4 * PAGE, data: false, zero: true },
      { start: 8 * MiB - PAGE, length: PAGE, data: true, zero: false },
    ]);
  });

  it('closes every device it opened once the clients are gone', () => {
    expect(stats.opens).toBeGreaterThan(0);
    expect(stats.closes).toBe(stats.opens);
  });
});
