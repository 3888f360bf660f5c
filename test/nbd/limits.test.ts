import { describe, expect, it } from 'vitest';
import { MemoryDevice } from './memory-device.js';
import { CMD, eventually } from './raw-client.js';
import { gate, MiB, setup, useServerPerTest } from './fixture.js';

useServerPerTest();

describe('NBD per-connection limits and back-pressure (raw socket)', () => {
  it('caps bytes and requests in flight per connection', async () => {
    const dev = new MemoryDevice(128 * MiB);
    const { connect } = await setup({ v: dev });
    const hold = gate();
    dev.hook = () => hold.wait;
    const c = await connect('v');
    try {
      // 12 reads of 8 MiB = 96 MiB asked; the 64 MiB default budget lets 8 reach the device.
      for (let i = 0; i < 12; i++) c.request({ type: CMD.READ, handle: BigInt(i), offset: i * 8 * MiB, length: 8 * MiB });
      await eventually(() => dev.active >= 8);
      await new Promise((r) => setTimeout(r, 100));
      expect(dev.active).toBe(8);
    } finally {
      hold.open();
    }
    const handles = new Set<bigint>();
    for (let i = 0; i < 12; i++) handles.add((await c.simpleReply(8 * MiB)).handle);
    expect(handles.size).toBe(12);
    expect(dev.maxActive).toBe(8);

    // Payload-free requests are capped by count (64 by default).
    const holdFlushes = gate();
    dev.hook = () => holdFlushes.wait;
    try {
      for (let i = 0; i < 100; i++) c.request({ type: CMD.FLUSH, handle: BigInt(i) });
      await eventually(() => dev.active >= 64);
      await new Promise((r) => setTimeout(r, 100));
      expect(dev.active).toBe(64);
    } finally {
      holdFlushes.open();
    }
    for (let i = 0; i < 100; i++) expect((await c.simpleReply()).error).toBe(0);
    expect(dev.flushes).toBe(100);
  });

  it('a client that stops reading replies stops the server reading its device (back-pressure)', async () => {
    const dev = new MemoryDevice(128 * MiB);
    const { connect } = await setup({ v: dev });
    let reads = 0;
    dev.hook = async (op) => {
      if (op === 'read') reads++;
    };
    const c = await connect('v');
    c.socket.pause();
    for (let i = 0; i < 16; i++) c.request({ type: CMD.READ, handle: BigInt(i), offset: i * 8 * MiB, length: 8 * MiB });
    await eventually(() => reads >= 8);
    await new Promise((r) => setTimeout(r, 300));
    // 64 MiB of unsent replies is the budget: 8 reads, plus what the kernel's socket
    // buffers absorbed. Without back-pressure all 16 would have been read.
    expect(reads).toBeLessThanOrEqual(12);
    c.socket.resume();
    for (let i = 0; i < 16; i++) expect((await c.simpleReply(8 * MiB)).error).toBe(0);
    expect(reads).toBe(16);
  });

  it('close() drops a client that stopped reading once the grace period is over', async () => {
    const dev = new MemoryDevice(128 * MiB);
    const { connect, stats, server } = await setup({ v: dev }, { shutdownGraceMs: 200 });
    const c = await connect('v');
    c.socket.pause();
    for (let i = 0; i < 16; i++) c.request({ type: CMD.READ, handle: BigInt(i), offset: i * 8 * MiB, length: 8 * MiB });
    await eventually(() => dev.maxActive > 0);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(stats.closes).toBe(1);
    c.close();
  });
});
