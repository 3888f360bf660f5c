import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startNbdServer, type NbdServer } from '../../src/nbd/server.js';
import { MemoryDevice, memoryResolver } from './memory-device.js';
import { hasQemu, nbdUrl, qemuSkipReason, run } from './qemu-tools.js';

const KiB = 1024;

describe.skipIf(!hasQemu)(`qemu-io over NBD${qemuSkipReason}`, () => {
  let server: NbdServer;
  let dev: MemoryDevice;
  let url: string;

  // -t writeback: qemu-io defaults to writethrough, which would add FUA to every write
  // and hide whether the FUA flag really follows the command.
  const qemuIo = (...cmds: string[]) => run('qemu-io', ['-f', 'raw', '-t', 'writeback', url, ...cmds.flatMap((c) => ['-c', c])]);

  beforeAll(async () => {
    dev = new MemoryDevice(16 * 1024 * KiB);
    server = await startNbdServer({ port: 0, resolver: memoryResolver({ 'vol-io': dev }).resolver });
    url = nbdUrl(server.port, 'vol-io');
  });
  beforeEach(() => {
    dev.log.length = 0;
    dev.flushes = 0;
  });
  afterAll(() => server?.close());

  it('write + flush reaches the device; read -P verifies it back', async () => {
    await qemuIo('write -P 0xab 0 64k', 'flush');
    expect(dev.contents().subarray(0, 64 * KiB).equals(Buffer.alloc(64 * KiB, 0xab))).toBe(true);
    expect(dev.log.filter((e) => e.op === 'write').every((e) => e.fua === false)).toBe(true);
    expect(dev.flushes).toBeGreaterThanOrEqual(1);

    const { stdout } = await qemuIo('read -P 0xab 0 64k');
    expect(stdout).toContain('read 65536/65536 bytes at offset 0');
    // The pattern check must be able to fail.
    await expect(qemuIo('read -P 0xcd 0 64k')).rejects.toThrow(/Pattern verification failed/);
  });

  it('write -f (FUA) reaches the device with fua=true', async () => {
    await qemuIo('write -f -P 0x5a 128k 4k');
    expect(dev.log).toContainEqual({ op: 'write', offset: 128 * KiB, length: 4 * KiB, fua: true });
    expect(dev.fuaWrites).toBeGreaterThanOrEqual(1);
  });

  it('write -z maps to WRITE_ZEROES: NO_HOLE unless -u allows unmapping', async () => {
    await qemuIo('write -P 0x77 1M 128k', 'write -z 1M 64k', 'write -z -u 2M 64k');
    const zeroes = dev.log.filter((e) => e.op === 'writeZeroes');
    expect(zeroes).toEqual([
      { op: 'writeZeroes', offset: 1024 * KiB, length: 64 * KiB, fua: false, noHole: true },
      { op: 'writeZeroes', offset: 2048 * KiB, length: 64 * KiB, fua: false, noHole: false },
    ]);
    const after = dev.contents();
    expect(after.subarray(1024 * KiB, 1088 * KiB).every((b) => b === 0)).toBe(true);
    expect(after.subarray(1088 * KiB, 1152 * KiB).every((b) => b === 0x77)).toBe(true);
  });
});
