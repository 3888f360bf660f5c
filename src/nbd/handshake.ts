import type { Socket } from 'node:net';
import type { BlockDevice, ExportResolver, NbdClient } from './block-device.js';
import { blockSizeInfo, exportInfo, transmissionFlags } from './export-info.js';
import { errorMessage, ProtocolError, type NbdLog } from './log.js';
import { listContexts, parseMetaContextRequest, selectContexts } from './meta-context.js';
import { InvalidOptionError, OptionData } from './option-data.js';
import {
  BASE_ALLOCATION_ID,
  ClientFlag,
  EXPORT_NAME_PAD_BYTES,
  HandshakeFlag,
  IHAVEOPT,
  Info,
  NBD_MAGIC,
  Option,
  OPTION_HEADER_BYTES,
  Reply,
} from './protocol.js';
import { SocketReader } from './socket-reader.js';
import { acceptTls, type NbdTlsOptions } from './tls-psk.js';
import { encodeString, optionReply } from './wire.js';

/** What the handshake agreed on; the transmission phase runs on it. */
export interface Session {
  name: string;
  device: BlockDevice;
  flags: number;
  structured: boolean;
  /** base:allocation was selected for this export: BLOCK_STATUS is allowed. */
  baseAllocation: boolean;
  client: NbdClient;
}

export interface HandshakeContext {
  /** Replaced by the TLS socket (and its reader) after STARTTLS: use these, not copies. */
  socket: Socket;
  reader: SocketReader;
  resolver: ExportResolver;
  log: NbdLog;
  /** Set: TLS is required before anything but STARTTLS and ABORT. */
  tls?: NbdTlsOptions;
}

/** Option data we are willing to buffer; real options are a few hundred bytes. */
const MAX_OPTION_BYTES = 64 * 1024;

/**
 * Fixed newstyle negotiation. Resolves with a Session when the client enters transmission
 * (NBD_OPT_GO or NBD_OPT_EXPORT_NAME), with undefined after NBD_OPT_ABORT, and rejects on
 * a protocol violation or a closed connection. No device stays open unless returned.
 */
export async function negotiate(ctx: HandshakeContext): Promise<Session | undefined> {
  const greeting = Buffer.alloc(18);
  greeting.writeBigUInt64BE(NBD_MAGIC, 0);
  greeting.writeBigUInt64BE(IHAVEOPT, 8);
  greeting.writeUInt16BE(HandshakeFlag.FIXED_NEWSTYLE | HandshakeFlag.NO_ZEROES, 16);
  ctx.socket.write(greeting);

  const clientFlags = (await ctx.reader.read(4)).readUInt32BE(0);
  // The spec: the server MUST drop the connection on client flags it does not know.
  if ((clientFlags & ~(ClientFlag.FIXED_NEWSTYLE | ClientFlag.NO_ZEROES)) !== 0) {
    throw new ProtocolError(`unknown client flags 0x${clientFlags.toString(16)}`);
  }
  const haggle = new OptionHaggling(ctx, (clientFlags & ClientFlag.NO_ZEROES) !== 0);
  try {
    for (;;) {
      const head = await ctx.reader.read(OPTION_HEADER_BYTES);
      if (head.readBigUInt64BE(0) !== IHAVEOPT) throw new ProtocolError('bad option magic');
      const option = head.readUInt32BE(8);
      const length = head.readUInt32BE(12);
      if (length > MAX_OPTION_BYTES) {
        await ctx.reader.skip(length);
        if (option === Option.EXPORT_NAME) throw new ProtocolError('export name too long');
        haggle.error(option, Reply.ERR_TOO_BIG, `option data of ${length} bytes is too large`);
        continue;
      }
      const outcome = await haggle.handle(option, await ctx.reader.read(length));
      if (outcome !== 'continue') return outcome === 'abort' ? undefined : outcome;
    }
  } finally {
    await haggle.closeUnused();
  }
}

type Outcome = 'continue' | 'abort' | Session;

class OptionHaggling {
  private structured = false;
  private meta: { exportName: string; baseAllocation: boolean } | undefined;
  /** Device opened by INFO or a meta-context option, kept for a following GO on the same name. */
  private cached: { name: string; device: BlockDevice } | undefined;
  private readonly client: NbdClient = {};
  private secure = false;

  constructor(
    private readonly ctx: HandshakeContext,
    private readonly noZeroes: boolean,
  ) {}

  async handle(option: number, data: Buffer): Promise<Outcome> {
    try {
      if (option === Option.STARTTLS) return await this.startTls(data);
      if (this.ctx.tls && !this.secure && option !== Option.ABORT) {
        // The spec: without TLS, a TLS-only server ends the session on EXPORT_NAME (it has no
        // error reply) and answers every other option ERR_TLS_REQD.
        if (option === Option.EXPORT_NAME) throw new ProtocolError('NBD_OPT_EXPORT_NAME before STARTTLS: TLS is required');
        this.error(option, Reply.ERR_TLS_REQD, 'TLS is required: this server takes TLS-PSK (see ebs-sim nbd-psk)');
        return 'continue';
      }
      switch (option) {
        case Option.EXPORT_NAME:
          return await this.exportName(data);
        case Option.GO:
        case Option.INFO:
          return await this.info(option, data);
        case Option.LIST:
          return await this.list(data);
        case Option.ABORT:
          this.reply(option, Reply.ACK);
          return 'abort';
        case Option.STRUCTURED_REPLY:
          if (data.length !== 0) this.error(option, Reply.ERR_INVALID, 'no data expected');
          else if (this.structured) this.error(option, Reply.ERR_INVALID, 'structured replies already negotiated');
          else {
            this.structured = true;
            this.reply(option, Reply.ACK);
          }
          return 'continue';
        case Option.LIST_META_CONTEXT:
        case Option.SET_META_CONTEXT:
          return await this.metaContext(option, data);
        default:
          this.error(option, Reply.ERR_UNSUP, `option ${option} is not supported`);
          return 'continue';
      }
    } catch (err) {
      if (!(err instanceof InvalidOptionError)) throw err;
      this.error(option, Reply.ERR_INVALID, err.message);
      return 'continue';
    }
  }

  private async startTls(data: Buffer): Promise<Outcome> {
    const tls = this.ctx.tls;
    if (!tls) this.error(Option.STARTTLS, Reply.ERR_UNSUP, 'this server does not offer TLS (it runs without --auth sigv4)');
    else if (this.secure) this.error(Option.STARTTLS, Reply.ERR_INVALID, 'TLS is already on');
    else if (data.length !== 0) this.error(Option.STARTTLS, Reply.ERR_INVALID, 'no data expected');
    else {
      // Options answered before TLS may have opened a device; nothing crosses into TLS.
      await this.closeUnused();
      this.structured = false;
      this.meta = undefined;
      this.reply(Option.STARTTLS, Reply.ACK);
      this.ctx.reader.release();
      const { socket, identity } = await acceptTls(this.ctx.socket, tls);
      this.ctx.socket = socket;
      this.ctx.reader = new SocketReader(socket, this.ctx.reader.readAhead);
      this.client.pskIdentity = identity;
      this.secure = true;
      this.ctx.log('debug', 'nbd tls on', { identity });
    }
    return 'continue';
  }

  /** Closes a device opened during negotiation that transmission did not take over. */
  async closeUnused(): Promise<void> {
    const c = this.cached;
    this.cached = undefined;
    if (c) await closeQuietly(c.device, this.ctx.log);
  }

  reply(option: number, type: number, data?: Buffer): void {
    this.ctx.socket.write(optionReply(option, type, data));
  }

  error(option: number, type: number, message: string): void {
    this.ctx.log('debug', 'nbd option refused', { option, type, message });
    this.reply(option, type, encodeString(message));
  }

  private async exportName(data: Buffer): Promise<Outcome> {
    const name = data.toString('utf8');
    const device = await this.open(name);
    // NBD_OPT_EXPORT_NAME has no error reply: the spec says to end the session.
    if (typeof device === 'string') throw new ProtocolError(`export name refused: ${device}`);
    const flags = transmissionFlags(device, this.structured);
    const info = exportInfo(device, flags).subarray(2); // size + flags, without the info type
    this.ctx.socket.write(this.noZeroes ? info : Buffer.concat([info, Buffer.alloc(EXPORT_NAME_PAD_BYTES)]));
    return this.enter(name, device, flags);
  }

  private async info(option: number, data: Buffer): Promise<Outcome> {
    const d = new OptionData(data);
    const name = d.string(d.u32());
    const requested = new Set<number>();
    for (let n = d.u16(); n > 0; n--) requested.add(d.u16());
    d.end();

    const device = await this.open(name);
    if (typeof device === 'string') {
      this.error(option, Reply.ERR_UNKNOWN, device);
      return 'continue';
    }
    const flags = transmissionFlags(device, this.structured);
    this.reply(option, Reply.INFO, exportInfo(device, flags));
    // Sent even unrequested (allowed): with minimum 1 it constrains nothing.
    this.reply(option, Reply.INFO, blockSizeInfo(device));
    if (requested.has(Info.NAME)) this.reply(option, Reply.INFO, infoString(Info.NAME, name));
    if (requested.has(Info.DESCRIPTION) && device.description) {
      this.reply(option, Reply.INFO, infoString(Info.DESCRIPTION, device.description));
    }
    this.reply(option, Reply.ACK);
    return option === Option.GO ? this.enter(name, device, flags) : 'continue';
  }

  private async list(data: Buffer): Promise<Outcome> {
    if (data.length !== 0) {
      this.error(Option.LIST, Reply.ERR_INVALID, 'no data expected');
      return 'continue';
    }
    let exports: Array<{ name: string; description?: string }>;
    try {
      exports = await this.ctx.resolver.list(this.client);
    } catch (err) {
      this.ctx.log('warn', 'nbd export list failed', { error: errorMessage(err) });
      this.error(Option.LIST, Reply.ERR_POLICY, `cannot list exports: ${errorMessage(err)}`);
      return 'continue';
    }
    for (const e of exports) {
      const name = encodeString(e.name);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(name.length);
      // Whatever follows the name is free text for humans: the description.
      this.reply(Option.LIST, Reply.SERVER, Buffer.concat([len, name, encodeString(e.description ?? '')]));
    }
    this.reply(Option.LIST, Reply.ACK);
    return 'continue';
  }

  private async metaContext(option: number, data: Buffer): Promise<Outcome> {
    const set = option === Option.SET_META_CONTEXT;
    // SET replaces the previous selection even when it fails.
    if (set) this.meta = undefined;
    if (!this.structured) {
      this.error(option, Reply.ERR_INVALID, 'negotiate structured replies first');
      return 'continue';
    }
    const req = parseMetaContextRequest(data);
    const device = await this.open(req.exportName);
    if (typeof device === 'string') {
      this.error(option, Reply.ERR_UNKNOWN, device);
      return 'continue';
    }
    const contexts = set ? selectContexts(req.queries) : listContexts(req.queries);
    for (const name of contexts) {
      const b = Buffer.alloc(4);
      // LIST replies carry a reserved id of 0; SET gives the id BLOCK_STATUS will use.
      b.writeUInt32BE(set ? BASE_ALLOCATION_ID : 0);
      this.reply(option, Reply.META_CONTEXT, Buffer.concat([b, encodeString(name)]));
    }
    if (set) this.meta = { exportName: req.exportName, baseAllocation: contexts.length > 0 };
    this.reply(option, Reply.ACK);
    return 'continue';
  }

  private enter(name: string, device: BlockDevice, flags: number): Session {
    if (this.cached?.device === device) this.cached = undefined; // ownership moves to the session
    const baseAllocation = this.meta?.exportName === name && this.meta.baseAllocation;
    return { name, device, flags, structured: this.structured, baseAllocation, client: this.client };
  }

  /** The device for `name` (reusing one opened earlier in this handshake), or why not. */
  private async open(name: string): Promise<BlockDevice | string> {
    if (this.cached?.name === name) return this.cached.device;
    await this.closeUnused();
    let device: BlockDevice | undefined;
    try {
      device = await this.ctx.resolver.open(name, this.client);
    } catch (err) {
      this.ctx.log('warn', 'nbd export open failed', { name, error: errorMessage(err) });
      return `export '${name}' is not available: ${errorMessage(err)}`;
    }
    if (!device) return `unknown export '${name}'`;
    this.cached = { name, device };
    return device;
  }
}

function infoString(type: number, s: string): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(type);
  return Buffer.concat([b, encodeString(s)]);
}

export async function closeQuietly(device: BlockDevice, log: NbdLog): Promise<void> {
  try {
    await device.close?.();
  } catch (err) {
    log('warn', 'nbd device close failed', { error: errorMessage(err) });
  }
}
