import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNbdServer, type NbdServer } from '../../src/nbd/server.js';
import { MemoryDevice, memoryResolver } from './memory-device.js';
import { CMD, goRequest, MAGIC, metaRequest, OPT, RawClient, REP } from './raw-client.js';

const MiB = 1024 * 1024;
// Transmission flags, spelled independently of src/nbd/protocol.ts.
const F = { HAS_FLAGS: 1, READ_ONLY: 2, FLUSH: 4, FUA: 8, TRIM: 32, WRITE_ZEROES: 64, DF: 128, MULTI_CONN: 256 };

describe('NBD handshake (raw socket)', () => {
  let server: NbdServer;
  const volA = new MemoryDevice(MiB, { description: 'first volume', blockSize: 64 * 1024, canMultiConn: true });
  const volRo = new MemoryDevice(64 * 1024, { readOnly: true });
  const { resolver, stats } = memoryResolver({ 'vol-a': volA, 'vol-ro': volRo });
  const clients: RawClient[] = [];
  const handshake = async (flags?: number) => {
    const c = await RawClient.handshake(server.port, flags);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startNbdServer({ port: 0, resolver });
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await server.close();
    expect(stats.closes).toBe(stats.opens);
  });

  it('greets with NBDMAGIC, IHAVEOPT and FIXED_NEWSTYLE | NO_ZEROES', async () => {
    const c = await RawClient.connect(server.port);
    clients.push(c);
    const g = await c.read(18);
    expect(g.readBigUInt64BE(0)).toBe(MAGIC.NBDMAGIC);
    expect(g.subarray(0, 8).toString('latin1')).toBe('NBDMAGIC');
    expect(g.subarray(8, 16).toString('latin1')).toBe('IHAVEOPT');
    expect(g.readUInt16BE(16)).toBe(0b11);
  });

  it('NBD_OPT_LIST returns each export with its description, then ACK', async () => {
    const c = await handshake();
    const replies = await c.option(OPT.LIST);
    expect(replies.map((r) => r.type)).toEqual([REP.SERVER, REP.SERVER, REP.ACK]);
    const entries = replies.slice(0, 2).map((r) => {
      const len = r.data.readUInt32BE(0);
      return { name: r.data.toString('utf8', 4, 4 + len), rest: r.data.toString('utf8', 4 + len) };
    });
    expect(entries).toEqual([
      { name: 'vol-a', rest: 'first volume' },
      { name: 'vol-ro', rest: '' },
    ]);
    expect(replies.every((r) => r.option === OPT.LIST)).toBe(true);
    // LIST takes no data.
    expect((await c.option(OPT.LIST, Buffer.from('x'))).map((r) => r.type)).toEqual([REP.ERR_INVALID]);
  });

  it('NBD_OPT_INFO describes the export and stays in negotiation; GO then enters transmission', async () => {
    const c = await handshake();
    const opensBefore = stats.opens;
    const replies = await c.option(OPT.INFO, goRequest('vol-a', [1, 2, 3]));
    expect(replies[replies.length - 1]!.type).toBe(REP.ACK);
    const infos = new Map(replies.filter((r) => r.type === REP.INFO).map((r) => [r.data.readUInt16BE(0), r.data]));

    const exp = infos.get(0)!;
    expect(exp.length).toBe(12);
    expect(Number(exp.readBigUInt64BE(2))).toBe(MiB);
    // No structured replies yet, so no DF; the device shares no cache, so MULTI_CONN.
    expect(exp.readUInt16BE(10)).toBe(F.HAS_FLAGS | F.FLUSH | F.FUA | F.TRIM | F.WRITE_ZEROES | F.MULTI_CONN);
    expect(infos.get(1)!.toString('utf8', 2)).toBe('vol-a');
    expect(infos.get(2)!.toString('utf8', 2)).toBe('first volume');
    const bs = infos.get(3)!;
    expect([bs.length, bs.readUInt32BE(2), bs.readUInt32BE(6), bs.readUInt32BE(10)]).toEqual([14, 1, 64 * 1024, 32 * MiB]);

    // Still negotiating: GO works and the session reads.
    const { flags } = await c.go('vol-a', { structured: true });
    expect(flags & F.DF).toBe(F.DF);
    await volA.write(0, Buffer.from('hello'), { fua: false });
    c.request({ type: CMD.READ, handle: 7n, offset: 0, length: 5 });
    const chunk = await c.chunk();
    expect(chunk.handle).toBe(7n);
    expect(chunk.payload.toString('utf8', 8)).toBe('hello');
    // INFO then GO on the same name reuse one open.
    expect(stats.opens - opensBefore).toBe(1);
  });

  it('a read-only export advertises READ_ONLY and no write-side flags', async () => {
    const c = await handshake();
    const { flags } = await c.go('vol-ro');
    expect(flags).toBe(F.HAS_FLAGS | F.READ_ONLY | F.FLUSH);
  });

  it('an unknown export name in INFO/GO gives NBD_REP_ERR_UNKNOWN and negotiation goes on', async () => {
    const c = await handshake();
    for (const opt of [OPT.INFO, OPT.GO]) {
      const replies = await c.option(opt, goRequest('vol-missing'));
      expect(replies.map((r) => r.type)).toEqual([REP.ERR_UNKNOWN]);
      expect(replies[0]!.data.toString()).toContain('vol-missing');
    }
    expect((await c.option(OPT.LIST)).at(-1)!.type).toBe(REP.ACK);
  });

  it('unknown options, STARTTLS and EXTENDED_HEADERS get NBD_REP_ERR_UNSUP', async () => {
    const c = await handshake();
    for (const opt of [99, OPT.STARTTLS, 11, 0x7fffffff]) {
      const [r] = await c.option(opt, Buffer.from('ignored data'));
      expect(r).toMatchObject({ option: opt, type: REP.ERR_UNSUP });
    }
  });

  it('malformed option data gets NBD_REP_ERR_INVALID, oversized data NBD_REP_ERR_TOO_BIG', async () => {
    const c = await handshake();
    // Name length says 100 bytes but only 3 follow.
    const bad = Buffer.alloc(9);
    bad.writeUInt32BE(100);
    expect((await c.option(OPT.GO, bad)).map((r) => r.type)).toEqual([REP.ERR_INVALID]);
    expect((await c.option(OPT.STRUCTURED_REPLY, Buffer.alloc(4))).map((r) => r.type)).toEqual([REP.ERR_INVALID]);
    expect((await c.option(OPT.GO, Buffer.alloc(1024 * 1024))).map((r) => r.type)).toEqual([REP.ERR_TOO_BIG]);
    await c.go('vol-a');
  });

  it('structured replies: ACK once, then ERR_INVALID', async () => {
    const c = await handshake();
    expect((await c.option(OPT.STRUCTURED_REPLY)).map((r) => r.type)).toEqual([REP.ACK]);
    expect((await c.option(OPT.STRUCTURED_REPLY)).map((r) => r.type)).toEqual([REP.ERR_INVALID]);
  });

  it('meta contexts: need structured replies; list and select base:allocation', async () => {
    const c = await handshake();
    expect((await c.option(OPT.SET_META, metaRequest('vol-a', ['base:allocation']))).map((r) => r.type)).toEqual([
      REP.ERR_INVALID,
    ]);
    await c.option(OPT.STRUCTURED_REPLY);

    const listed = await c.option(OPT.LIST_META, metaRequest('vol-a', []));
    expect(listed.map((r) => r.type)).toEqual([REP.META_CONTEXT, REP.ACK]);
    expect(listed[0]!.data.readUInt32BE(0)).toBe(0);
    expect(listed[0]!.data.toString('utf8', 4)).toBe('base:allocation');
    expect((await c.option(OPT.LIST_META, metaRequest('vol-a', ['base:']))).length).toBe(2);
    expect((await c.option(OPT.LIST_META, metaRequest('vol-a', ['qemu:dirty-bitmap:x']))).map((r) => r.type)).toEqual([
      REP.ACK,
    ]);
    // "base:" is a wildcard only for LIST; SET selects nothing with it.
    expect((await c.option(OPT.SET_META, metaRequest('vol-a', ['base:']))).map((r) => r.type)).toEqual([REP.ACK]);
    expect((await c.option(OPT.SET_META, metaRequest('vol-missing', ['base:allocation']))).map((r) => r.type)).toEqual([
      REP.ERR_UNKNOWN,
    ]);

    const set = await c.option(OPT.SET_META, metaRequest('vol-a', ['x-foo:bar', 'base:allocation']));
    expect(set.map((r) => r.type)).toEqual([REP.META_CONTEXT, REP.ACK]);
    const id = set[0]!.data.readUInt32BE(0);
    expect(id).not.toBe(0);

    await c.go('vol-a');
    c.request({ type: CMD.BLOCK_STATUS, handle: 1n, offset: 0, length: 64 * 1024 });
    const chunk = await c.chunk();
    expect(chunk.type).toBe(5);
    expect(chunk.payload.readUInt32BE(0)).toBe(id);
  });

  it('NBD_OPT_EXPORT_NAME: size + flags, with the 124 zero bytes only without NO_ZEROES', async () => {
    for (const clientFlags of [3, 1]) {
      const c = await handshake(clientFlags);
      c.sendOption(OPT.EXPORT_NAME, Buffer.from('vol-a'));
      const reply = await c.read(10);
      expect(Number(reply.readBigUInt64BE(0))).toBe(MiB);
      expect(reply.readUInt16BE(8) & F.HAS_FLAGS).toBe(1);
      if (clientFlags === 1) expect((await c.read(124)).every((b) => b === 0)).toBe(true);
      // The next bytes must be a reply to our request, proving the padding length was exact.
      c.request({ type: CMD.FLUSH, handle: 42n });
      expect(await c.simpleReply()).toMatchObject({ error: 0, handle: 42n });
    }
  });

  it('NBD_OPT_EXPORT_NAME with an unknown export closes the connection', async () => {
    const c = await handshake();
    c.sendOption(OPT.EXPORT_NAME, Buffer.from('vol-missing'));
    await c.closed;
  });

  it('a bad option magic, or unknown client flags, close the connection', async () => {
    const c = await handshake();
    c.sendOption(OPT.LIST, Buffer.alloc(0), 0x1122334455667788n);
    await c.closed;
    const d = await handshake(0x80);
    await d.closed;
  });

  it('NBD_OPT_ABORT is acknowledged, then the server closes', async () => {
    const c = await handshake();
    expect((await c.option(OPT.ABORT)).map((r) => r.type)).toEqual([REP.ACK]);
    await c.closed;
  });

  it('garbage instead of a handshake closes only that connection', async () => {
    const c = await RawClient.connect(server.port);
    c.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await c.closed;
    const ok = await handshake();
    await ok.go('vol-a');
    ok.request({ type: CMD.FLUSH, handle: 9n });
    expect(await ok.simpleReply()).toMatchObject({ error: 0, handle: 9n });
  });
});
