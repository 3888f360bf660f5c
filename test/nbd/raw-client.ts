import { connect, type Socket } from 'node:net';

/**
 * A deliberately small, independent NBD client for raw-socket tests: it spells the
 * protocol numbers itself rather than importing the server's, so a wrong constant on
 * either side shows up as a failure.
 */
export const MAGIC = {
  NBDMAGIC: 0x4e42444d41474943n,
  IHAVEOPT: 0x49484156454f5054n,
  OPT_REPLY: 0x3e889045565a9n,
  REQUEST: 0x25609513,
  SIMPLE: 0x67446698,
  STRUCTURED: 0x668e33ef,
};
export const OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, STARTTLS: 5, INFO: 6, GO: 7, STRUCTURED_REPLY: 8, LIST_META: 9, SET_META: 10 };
export const REP = { ACK: 1, SERVER: 2, INFO: 3, META_CONTEXT: 4, ERR_UNSUP: 0x80000001, ERR_INVALID: 0x80000003, ERR_UNKNOWN: 0x80000006, ERR_TOO_BIG: 0x80000009 };
export const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, WRITE_ZEROES: 6, BLOCK_STATUS: 7 };
export const CMD_FLAG = { FUA: 1, NO_HOLE: 2, DF: 4, REQ_ONE: 8 };
export const ERR = { EPERM: 1, EIO: 5, EINVAL: 22, ENOSPC: 28 };

export interface OptionReply {
  option: number;
  type: number;
  data: Buffer;
}

export interface Chunk {
  flags: number;
  type: number;
  handle: bigint;
  payload: Buffer;
}

export class RawClient {
  private chunks: Buffer[] = [];
  private have = 0;
  private wake: (() => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.have += d.length;
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Connects, checks the greeting and sends client flags (FIXED_NEWSTYLE | NO_ZEROES by default). */
  static async handshake(port: number, clientFlags = 3): Promise<RawClient> {
    const c = await RawClient.connect(port);
    const g = await c.read(18);
    if (g.readBigUInt64BE(0) !== MAGIC.NBDMAGIC || g.readBigUInt64BE(8) !== MAGIC.IHAVEOPT) throw new Error('bad greeting');
    c.u32(clientFlags);
    return c;
  }

  /** Exactly n bytes; fails if the connection closes or nothing arrives for `timeoutMs`. */
  async read(n: number, timeoutMs = 10_000): Promise<Buffer> {
    while (this.have < n) {
      if (this.ended) throw new Error(`connection closed with ${this.have}/${n} bytes`);
      let timer: NodeJS.Timeout | undefined;
      const progressed = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      clearTimeout(timer);
      this.wake = undefined;
      if (!progressed) throw new Error(`timed out waiting for ${n} bytes (have ${this.have})`);
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.have = rest.length;
    return all.subarray(0, n);
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.write(b);
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0), magic = MAGIC.IHAVEOPT): void {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(magic, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(data.length, 12);
    this.write(Buffer.concat([h, data]));
  }

  async readOptionReply(): Promise<OptionReply> {
    const h = await this.read(20);
    if (h.readBigUInt64BE(0) !== MAGIC.OPT_REPLY) throw new Error('bad option reply magic');
    const data = await this.read(h.readUInt32BE(16));
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12), data: Buffer.from(data) };
  }

  /** Sends an option and collects replies up to the final one (ACK or an error). */
  async option(option: number, data?: Buffer): Promise<OptionReply[]> {
    this.sendOption(option, data);
    const replies: OptionReply[] = [];
    for (;;) {
      const r = await this.readOptionReply();
      replies.push(r);
      if (r.type === REP.ACK || r.type >= 0x80000000) return replies;
    }
  }

  /** NBD_OPT_GO after optional structured replies and base:allocation; returns size and flags. */
  async go(name: string, opts: { structured?: boolean; meta?: boolean; infos?: number[] } = {}) {
    if (opts.structured) await this.option(OPT.STRUCTURED_REPLY);
    if (opts.meta) await this.option(OPT.SET_META, metaRequest(name, ['base:allocation']));
    const replies = await this.option(OPT.GO, goRequest(name, opts.infos ?? []));
    const last = replies[replies.length - 1]!;
    if (last.type !== REP.ACK) throw new Error(`GO failed: 0x${last.type.toString(16)} ${last.data.toString()}`);
    const exp = replies.find((r) => r.type === REP.INFO && r.data.readUInt16BE(0) === 0)!.data;
    return { size: Number(exp.readBigUInt64BE(2)), flags: exp.readUInt16BE(10), replies };
  }

  request(r: { type: number; flags?: number; handle: bigint; offset?: number; length?: number; payload?: Buffer }): void {
    const h = Buffer.alloc(28);
    h.writeUInt32BE(MAGIC.REQUEST, 0);
    h.writeUInt16BE(r.flags ?? 0, 4);
    h.writeUInt16BE(r.type, 6);
    h.writeBigUInt64BE(r.handle, 8);
    h.writeBigUInt64BE(BigInt(r.offset ?? 0), 16);
    h.writeUInt32BE(r.length ?? r.payload?.length ?? 0, 24);
    this.write(r.payload ? Buffer.concat([h, r.payload]) : h);
  }

  /** A simple reply; pass the read length to also take the data when there is no error. */
  async simpleReply(readLength = 0): Promise<{ error: number; handle: bigint; data: Buffer }> {
    const h = await this.read(16);
    if (h.readUInt32BE(0) !== MAGIC.SIMPLE) throw new Error(`expected simple reply, magic 0x${h.readUInt32BE(0).toString(16)}`);
    const error = h.readUInt32BE(4);
    const data = error === 0 && readLength > 0 ? Buffer.from(await this.read(readLength)) : Buffer.alloc(0);
    return { error, handle: h.readBigUInt64BE(8), data };
  }

  async chunk(): Promise<Chunk> {
    const h = await this.read(20);
    if (h.readUInt32BE(0) !== MAGIC.STRUCTURED) throw new Error(`expected structured chunk, magic 0x${h.readUInt32BE(0).toString(16)}`);
    const payload = Buffer.from(await this.read(h.readUInt32BE(16)));
    return { flags: h.readUInt16BE(4), type: h.readUInt16BE(6), handle: h.readBigUInt64BE(8), payload };
  }

  close(): void {
    this.socket.destroy();
  }
}

export function goRequest(name: string, infos: number[] = []): Buffer {
  const n = Buffer.from(name);
  const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  b.writeUInt16BE(infos.length, 4 + n.length);
  infos.forEach((t, i) => b.writeUInt16BE(t, 6 + n.length + 2 * i));
  return b;
}

export function metaRequest(name: string, queries: string[]): Buffer {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    parts.push(b);
  };
  const n = Buffer.from(name);
  u32(n.length);
  parts.push(n);
  u32(queries.length);
  for (const q of queries) {
    u32(Buffer.byteLength(q));
    parts.push(Buffer.from(q));
  }
  return Buffer.concat(parts);
}

/** Resolves once `cond` holds, polling; fails after `ms`. */
export async function eventually(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
