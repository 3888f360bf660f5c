import { describe, expect, it } from 'vitest';
import { MemoryDevice, PAGE } from './memory-device.js';
import { CMD, CMD_FLAG, ERR, eventually, RawClient } from './raw-client.js';
import { gate, MiB, setup, useServerPerTest } from './fixture.js';

useServerPerTest();

describe('NBD transmission (raw socket)', () => {
  it('a read past the end gets EINVAL and the connection keeps working', async () => {
    const dev = new MemoryDevice(MiB);
    await dev.write(MiB - 4, Buffer.from('tail'), { fua: false });
    const { connect } = await setup({ v: dev });
    const c = await connect('v');

    c.request({ type: CMD.READ, handle: 1n, offset: MiB - 2, length: 4 });
    expect(await c.simpleReply(4)).toMatchObject({ error: ERR.EINVAL, handle: 1n, data: Buffer.alloc(0) });
    c.request({ type: CMD.READ, handle: 2n, offset: MiB - 4, length: 4 });
    const ok = await c.simpleReply(4);
    expect([ok.error, ok.handle, ok.data.toString()]).toEqual([0, 2n, 'tail']);
  });

  it('with structured replies an error is an ERROR chunk with a message', async () => {
    const { connect } = await setup({ v: new MemoryDevice(MiB) });
    const c = await connect('v', { structured: true });
    c.request({ type: CMD.READ, handle: 5n, offset: 2 ** 40, length: 512 });
    const chunk = await c.chunk();
    expect(chunk).toMatchObject({ type: 0x8001, flags: 1, handle: 5n });
    expect(chunk.payload.readUInt32BE(0)).toBe(ERR.EINVAL);
    const msgLen = chunk.payload.readUInt16BE(4);
    expect(chunk.payload.toString('utf8', 6, 6 + msgLen)).toMatch(/beyond the export size/);

    c.request({ type: CMD.READ, handle: 6n, offset: 512, length: 512 });
    const data = await c.chunk();
    expect(data).toMatchObject({ type: 1, flags: 1, handle: 6n });
    expect(Number(data.payload.readBigUInt64BE(0))).toBe(512);
    expect(data.payload.length).toBe(8 + 512);
  });

  it('writes past the end get ENOSPC, and writes to a read-only export EPERM', async () => {
    const ro = new MemoryDevice(MiB, { readOnly: true });
    const { connect } = await setup({ v: new MemoryDevice(MiB), ro });
    const c = await connect('v');
    c.request({ type: CMD.WRITE, handle: 1n, offset: MiB - 1, payload: Buffer.from('xy') });
    expect((await c.simpleReply()).error).toBe(ERR.ENOSPC);
    c.request({ type: CMD.WRITE_ZEROES, handle: 2n, offset: MiB, length: 1 });
    expect((await c.simpleReply()).error).toBe(ERR.ENOSPC);

    const r = await connect('ro');
    c.request({ type: CMD.WRITE, handle: 3n, offset: 0, payload: Buffer.from('ok') });
    r.request({ type: CMD.WRITE, handle: 4n, offset: 0, payload: Buffer.from('no') });
    r.request({ type: CMD.TRIM, handle: 5n, offset: 0, length: PAGE });
    expect((await c.simpleReply()).error).toBe(0);
    expect((await r.simpleReply()).error).toBe(ERR.EPERM);
    expect((await r.simpleReply()).error).toBe(ERR.EPERM);
    expect(ro.log).toEqual([]);
  });

  it('oversized requests get EINVAL; an oversized write payload is skipped, keeping the stream in sync', async () => {
    const dev = new MemoryDevice(64 * MiB);
    const { connect } = await setup({ v: dev });
    const c = await connect('v');
    c.request({ type: CMD.READ, handle: 1n, offset: 0, length: 32 * MiB + 1 });
    expect((await c.simpleReply()).error).toBe(ERR.EINVAL);
    c.request({ type: CMD.WRITE, handle: 2n, offset: 0, payload: Buffer.alloc(33 * MiB, 0xee) });
    c.request({ type: CMD.WRITE, handle: 3n, offset: 0, payload: Buffer.from('after') });
    expect(await c.simpleReply()).toMatchObject({ error: ERR.EINVAL, handle: 2n });
    expect(await c.simpleReply()).toMatchObject({ error: 0, handle: 3n });
    expect(dev.log).toEqual([{ op: 'write', offset: 0, length: 5, fua: false }]);
    // A full 32 MiB request is within the limit.
    c.request({ type: CMD.READ, handle: 4n, offset: 0, length: 32 * MiB });
    const big = await c.simpleReply(32 * MiB);
    expect([big.error, big.data.length, big.data.toString('utf8', 0, 5)]).toEqual([0, 32 * MiB, 'after']);
  });

  it('FLUSH calls flush once; FUA and NO_HOLE reach the device; bad flags are EINVAL', async () => {
    const dev = new MemoryDevice(MiB);
    const { connect } = await setup({ v: dev });
    const c = await connect('v');
    c.request({ type: CMD.FLUSH, handle: 1n });
    expect((await c.simpleReply()).error).toBe(0);
    expect(dev.flushes).toBe(1);
    c.request({ type: CMD.WRITE, flags: CMD_FLAG.FUA, handle: 2n, offset: 4096, payload: Buffer.alloc(4096, 1) });
    c.request({ type: CMD.WRITE_ZEROES, flags: CMD_FLAG.NO_HOLE, handle: 3n, offset: 0, length: PAGE });
    c.request({ type: CMD.TRIM, flags: CMD_FLAG.FUA, handle: 4n, offset: PAGE, length: PAGE });
    for (let i = 0; i < 3; i++) expect((await c.simpleReply()).error).toBe(0);
    expect(dev.log).toEqual([
      { op: 'write', offset: 4096, length: 4096, fua: true },
      { op: 'writeZeroes', offset: 0, length: PAGE, fua: false, noHole: true },
      { op: 'trim', offset: PAGE, length: PAGE, fua: true },
    ]);
    // DF needs structured replies; REQ_ONE is for BLOCK_STATUS; FLUSH carries no range; 9 is no command.
    c.request({ type: CMD.READ, flags: CMD_FLAG.DF, handle: 5n, offset: 0, length: 1 });
    c.request({ type: CMD.WRITE_ZEROES, flags: CMD_FLAG.REQ_ONE, handle: 6n, offset: 0, length: 1 });
    c.request({ type: CMD.FLUSH, handle: 7n, offset: 0, length: 1 });
    c.request({ type: 9, handle: 8n, offset: 0, length: 1 });
    for (let i = 0; i < 4; i++) expect((await c.simpleReply()).error).toBe(ERR.EINVAL);
    expect(dev.flushes).toBe(1);
  });

  it('device errors map to NBD errors: EPERM, ENOSPC, EIO', async () => {
    const dev = new MemoryDevice(MiB);
    const { connect } = await setup({ v: dev });
    const fail = (code?: string) => {
      dev.hook = async () => {
        dev.hook = undefined;
        throw Object.assign(new Error(`injected ${code ?? 'plain'}`), code ? { code } : {});
      };
    };
    const c = await connect('v', { structured: true });
    const errorOf = async (type: number, handle: bigint) => {
      c.request({ type, handle, offset: 0, length: 512, payload: type === CMD.WRITE ? Buffer.alloc(512) : undefined });
      const chunk = await c.chunk();
      expect(chunk.handle).toBe(handle);
      return chunk.type === 0x8001 ? chunk.payload.readUInt32BE(0) : 0;
    };
    fail('VOLUME_WRONG_STATE');
    expect(await errorOf(CMD.READ, 1n)).toBe(ERR.EPERM);
    fail('OFFSET_OUT_OF_RANGE');
    expect(await errorOf(CMD.WRITE, 2n)).toBe(ERR.ENOSPC);
    fail('OFFSET_OUT_OF_RANGE');
    expect(await errorOf(CMD.READ, 3n)).toBe(ERR.EINVAL);
    fail();
    expect(await errorOf(CMD.READ, 4n)).toBe(ERR.EIO);
    expect(await errorOf(CMD.READ, 5n)).toBe(0);
  });

  it('pipelined requests run concurrently and replies come back out of order, matched by handle', async () => {
    const dev = new MemoryDevice(MiB);
    const { connect } = await setup({ v: dev });
    const hold = gate();
    dev.hook = (op, offset) => (op === 'write' && offset === 0 ? hold.wait : Promise.resolve());
    const c = await connect('v');
    c.request({ type: CMD.WRITE, handle: 100n, offset: 0, payload: Buffer.alloc(PAGE, 0xa1) });
    for (let i = 1; i <= 8; i++) c.request({ type: CMD.WRITE, handle: BigInt(i), offset: i * PAGE, payload: Buffer.alloc(PAGE, i) });
    const early = [];
    try {
      for (let i = 0; i < 8; i++) early.push((await c.simpleReply()).handle);
    } finally {
      hold.open();
    }
    expect(early.sort()).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    expect(await c.simpleReply()).toMatchObject({ error: 0, handle: 100n });
    expect(dev.contents()[0]).toBe(0xa1);
    expect(dev.contents()[8 * PAGE]).toBe(8);
  });

  it('BLOCK_STATUS reports holes and data, one extent with REQ_ONE; EINVAL without a context', async () => {
    const dev = new MemoryDevice(MiB);
    await dev.write(2 * PAGE, Buffer.alloc(PAGE, 1), { fua: false });
    const { connect } = await setup({ v: dev });
    const c = await connect('v', { structured: true, meta: true });
    const status = async (handle: bigint, flags: number, offset: number, length: number) => {
      c.request({ type: CMD.BLOCK_STATUS, flags, handle, offset, length });
      const chunk = await c.chunk();
      expect(chunk).toMatchObject({ type: 5, flags: 1, handle });
      const out = [];
      for (let i = 4; i < chunk.payload.length; i += 8) out.push([chunk.payload.readUInt32BE(i), chunk.payload.readUInt32BE(i + 4)]);
      return out;
    };
    expect(await status(1n, 0, 100, 4 * PAGE)).toEqual([
      [2 * PAGE - 100, 3],
      [PAGE, 0],
      [PAGE + 100, 3],
    ]);
    expect(await status(2n, CMD_FLAG.REQ_ONE, 2 * PAGE, MiB - 2 * PAGE)).toEqual([[PAGE, 0]]);

    const plain = await connect('v', { structured: true });
    plain.request({ type: CMD.BLOCK_STATUS, handle: 3n, offset: 0, length: PAGE });
    expect((await plain.chunk()).payload.readUInt32BE(0)).toBe(ERR.EINVAL);
  });

  it('a client that disconnects mid-write leaves the server serving, and its device closed', async () => {
    const dev = new MemoryDevice(4 * MiB);
    const { connect, stats } = await setup({ v: dev });
    const c = await connect('v');
    // Header promises 1 MiB; send half of it and vanish.
    c.request({ type: CMD.WRITE, handle: 1n, offset: 0, length: MiB });
    c.write(Buffer.alloc(MiB / 2, 0x33));
    await new Promise((r) => setTimeout(r, 50));
    c.close();
    await eventually(() => stats.closes === 1);
    expect(dev.log).toEqual([]);

    const d = await connect('v');
    d.request({ type: CMD.WRITE, handle: 2n, offset: 0, payload: Buffer.from('still here') });
    expect((await d.simpleReply()).error).toBe(0);
    expect(dev.contents().toString('utf8', 0, 10)).toBe('still here');
  });

  it('a bad request magic closes the connection, waiting for in-flight work before closing the device', async () => {
    const dev = new MemoryDevice(MiB);
    const { connect, stats } = await setup({ v: dev });
    const hold = gate();
    dev.hook = () => hold.wait;
    const c = await connect('v');
    c.request({ type: CMD.WRITE, handle: 1n, offset: 0, payload: Buffer.from('pending') });
    await eventually(() => dev.active === 1);
    try {
      c.write(Buffer.alloc(28, 0x55));
      await c.closed;
      await new Promise((r) => setTimeout(r, 50));
      expect(stats.closes).toBe(0); // the write is still running on the device
    } finally {
      hold.open();
    }
    await eventually(() => stats.closes === 1);
    expect(dev.contents().toString('utf8', 0, 7)).toBe('pending');
  });

  it('two connections write different regions at once', async () => {
    const dev = new MemoryDevice(8 * MiB, { canMultiConn: true });
    const { connect } = await setup({ v: dev });
    const [a, b] = await Promise.all([connect('v'), connect('v')]);
    const chunks = 32;
    const writeAll = async (c: RawClient, base: number, fill: number) => {
      for (let i = 0; i < chunks; i++) c.request({ type: CMD.WRITE, handle: BigInt(i), offset: base + i * PAGE, payload: Buffer.alloc(PAGE, fill) });
      c.request({ type: CMD.FLUSH, handle: 999n });
      const errors = [];
      for (let i = 0; i <= chunks; i++) errors.push((await c.simpleReply()).error);
      return errors;
    };
    const [ea, eb] = await Promise.all([writeAll(a, 0, 0xaa), writeAll(b, 4 * MiB, 0xbb)]);
    expect([...ea, ...eb].every((e) => e === 0)).toBe(true);
    const all = dev.contents();
    expect(all.subarray(0, chunks * PAGE).every((x) => x === 0xaa)).toBe(true);
    expect(all.subarray(4 * MiB, 4 * MiB + chunks * PAGE).every((x) => x === 0xbb)).toBe(true);
    expect(dev.flushes).toBe(2);
  });

  it('a client that half-closes after sending its requests still gets the replies', async () => {
    const dev = new MemoryDevice(MiB);
    const { connect } = await setup({ v: dev });
    // Slow device: the replies are written well after the client's FIN arrived.
    dev.hook = () => new Promise((r) => setTimeout(r, 50));
    const c = await connect('v');
    c.request({ type: CMD.WRITE, handle: 1n, offset: 0, payload: Buffer.from('bye') });
    c.request({ type: CMD.READ, handle: 2n, offset: 0, length: 3 });
    c.socket.end();
    expect(await c.simpleReply()).toMatchObject({ error: 0, handle: 1n });
    expect((await c.simpleReply(3)).data.toString()).toBe('bye');
    await c.closed;
  });

  it('NBD_CMD_DISC answers what is in flight, then closes; close() on the server closes the rest', async () => {
    const dev = new MemoryDevice(MiB);
    const { connect, stats, server } = await setup({ v: dev });
    dev.hook = () => new Promise((r) => setTimeout(r, 50));
    const c = await connect('v');
    c.request({ type: CMD.WRITE, handle: 1n, offset: 0, payload: Buffer.from('last words') });
    c.request({ type: CMD.DISC, handle: 2n });
    expect(await c.simpleReply()).toMatchObject({ error: 0, handle: 1n });
    await c.closed;
    await eventually(() => stats.closes === 1);

    const idle = await connect('v');
    await server.close();
    await idle.closed;
    expect(stats.closes).toBe(2);
  });
});
