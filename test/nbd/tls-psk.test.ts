/**
 * NBD under `ebs-sim serve --auth sigv4`: TLS-PSK (STARTTLS) is required, each access key is a
 * PSK identity whose key `ebs-sim nbd-psk` prints, and a client sees its own account's exports
 * only. Driven with the real qemu tools against the real CLI server.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { CreateVolumeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNbdServer, type NbdServer } from '../../src/nbd/server.js';
import { derivePskKey } from '../../src/nbd/tls-psk.js';
import { runCli, startCliServer, type CliServer } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';
import { MemoryDevice, memoryResolver } from './memory-device.js';
import { hasQemu, qemuSkipReason, run } from './qemu-tools.js';
import { goRequest, OPT, RawClient, REP } from './raw-client.js';

const A = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', accountId: '111111111111' };
const B = { accessKeyId: 'AKIABOB', secretAccessKey: 'bob-secret', accountId: '222222222222' };

describe.skipIf(!hasQemu)(`NBD over TLS-PSK under --auth sigv4${qemuSkipReason}`, () => {
  const tmp = tempDir();
  const credentials = join(tmp.dir, 'credentials.json');
  let server: CliServer;
  let nbdPort: number;
  const volumes: Record<string, string> = {};

  /** qemu's TLS-PSK credentials object for one identity, keys read from `dir`/keys.psk. */
  const creds = (dir: string, identity: string) => `tls-creds-psk,id=tls0,endpoint=client,dir=${dir},username=${identity}`;
  const imageOpts = (exportName: string) => `driver=nbd,host=127.0.0.1,port=${nbdPort},export=${exportName},tls-creds=tls0`;
  const qemuIo = (dir: string, identity: string, exportName: string, ...cmds: string[]) =>
    run('qemu-io', ['--object', creds(dir, identity), '--image-opts', imageOpts(exportName), ...cmds.flatMap((c) => ['-c', c])]);
  const list = (args: string[]) => run('qemu-nbd', ['--list', '-b', '127.0.0.1', '-p', String(nbdPort), ...args]);

  beforeAll(async () => {
    writeFileSync(credentials, JSON.stringify({ credentials: [A, B] }));
    server = await startCliServer(['--auth', 'sigv4', '--credentials', credentials, '--nbd-port', '0']);
    nbdPort = Number(/nbd:\/\/127\.0\.0\.1:(\d+)\//.exec(server.stdout())![1]);
    for (const k of [A, B]) {
      const ec2 = new EC2Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: k, maxAttempts: 1 });
      volumes[k.accountId] = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
      ec2.destroy();
    }
    // The key files, as a user makes them.
    for (const [k, dir] of [[A, 'alice'], [B, 'bob']] as const) {
      const r = await runCli(['nbd-psk', '--credentials', credentials, '--access-key-id', k.accessKeyId, '--dir', join(tmp.dir, dir)]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    tmp.remove();
  });

  it('nbd-psk prints one identity:key line per access key, the key derived from the secret', async () => {
    const r = await runCli(['nbd-psk', '--credentials', credentials]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${A.accessKeyId}:${derivePskKey(A.secretAccessKey).toString('hex')}\n${B.accessKeyId}:${derivePskKey(B.secretAccessKey).toString('hex')}\n`);
    expect(readFileSync(join(tmp.dir, 'alice', 'keys.psk'), 'utf8')).toBe(`${A.accessKeyId}:${derivePskKey(A.secretAccessKey).toString('hex')}\n`);
    expect(derivePskKey(A.secretAccessKey).equals(derivePskKey(B.secretAccessKey))).toBe(false);
    const unknown = await runCli(['nbd-psk', '--credentials', credentials, '--access-key-id', 'AKIANOBODY']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/AKIANOBODY is not in/);
  });

  it('refuses a client without TLS: NBD_REP_ERR_TLS_REQD before STARTTLS', async () => {
    await expect(list([])).rejects.toThrow(/TLS negotiation required|TLS is required/);
    await expect(run('qemu-io', ['-f', 'raw', '-c', 'read 0 4k', `nbd://127.0.0.1:${nbdPort}/${volumes[A.accountId]}`])).rejects.toThrow(/TLS/);
  });

  it("lists only the client's own account's exports", async () => {
    const alice = (await list(['--object', creds(join(tmp.dir, 'alice'), A.accessKeyId), '--tls-creds', 'tls0'])).stdout;
    expect(alice).toContain(`export: '${volumes[A.accountId]}'`);
    expect(alice).not.toContain(volumes[B.accountId]);
    expect(alice).toMatch(/exports available: 1\b/);
    const bob = (await list(['--object', creds(join(tmp.dir, 'bob'), B.accessKeyId), '--tls-creds', 'tls0'])).stdout;
    expect(bob).toContain(`export: '${volumes[B.accountId]}'`);
    expect(bob).not.toContain(volumes[A.accountId]);
  });

  it("writes and reads its own volume over TLS, and cannot open another account's", async () => {
    const alice = join(tmp.dir, 'alice');
    await qemuIo(alice, A.accessKeyId, volumes[A.accountId]!, 'write -P 0x5c 1M 64k', 'flush');
    const { stdout } = await qemuIo(alice, A.accessKeyId, volumes[A.accountId]!, 'read -P 0x5c 1M 64k');
    expect(stdout).toContain('read 65536/65536 bytes at offset 1048576');
    await expect(qemuIo(alice, A.accessKeyId, volumes[A.accountId]!, 'read -P 0x11 1M 64k')).rejects.toThrow(/Pattern verification failed/);
    // B's volume is as unknown to A as a volume that does not exist.
    await expect(qemuIo(alice, A.accessKeyId, volumes[B.accountId]!, 'read 0 4k')).rejects.toThrow(/unknown export/);
    // ...and B did not get A's bytes either way: its volume still reads zeroes there.
    const bob = await qemuIo(join(tmp.dir, 'bob'), B.accessKeyId, volumes[B.accountId]!, 'read -P 0 1M 64k');
    expect(bob.stdout).toContain('read 65536/65536 bytes');
  });

  it('refuses a key that is not the identity\'s, and an identity it does not know', async () => {
    const forged = join(tmp.dir, 'forged');
    const bobKeyAsAlice = `${A.accessKeyId}:${derivePskKey(B.secretAccessKey).toString('hex')}\nAKIANOBODY:${'00'.repeat(32)}\n`;
    mkdirSync(forged, { recursive: true });
    writeFileSync(join(forged, 'keys.psk'), bobKeyAsAlice, { mode: 0o600 });
    await expect(list(['--object', creds(forged, A.accessKeyId), '--tls-creds', 'tls0'])).rejects.toThrow(/TLS|handshake|failed/i);
    await expect(list(['--object', creds(forged, 'AKIANOBODY'), '--tls-creds', 'tls0'])).rejects.toThrow(/TLS|handshake|failed/i);
    // The server stays up and serves the rightful owner afterwards.
    const ok = await list(['--object', creds(join(tmp.dir, 'alice'), A.accessKeyId), '--tls-creds', 'tls0']);
    expect(ok.stdout).toContain(volumes[A.accountId]);
  });
});

describe('NBD handshake when TLS is required (raw socket, Node TLS client)', () => {
  const key = randomBytes(32);
  const seen: Array<string | undefined> = [];
  let server: NbdServer;
  beforeAll(async () => {
    const { resolver } = memoryResolver({ 'vol-a': new MemoryDevice(1024 * 1024) });
    server = await startNbdServer({
      port: 0,
      tls: { pskKey: (id) => (id === 'AKIAALICE' ? key : undefined) },
      resolver: {
        open: (name, client) => (seen.push(client.pskIdentity), resolver.open(name, client)),
        list: async (client) => (seen.push(client.pskIdentity), [{ name: 'vol-a' }]),
      },
    });
  });
  afterAll(() => server.close());

  it('answers ERR_TLS_REQD to every option but STARTTLS and ABORT, and ends the session on EXPORT_NAME', async () => {
    const c = await RawClient.handshake(server.port);
    for (const opt of [OPT.LIST, OPT.STRUCTURED_REPLY]) expect((await c.option(opt)).map((r) => r.type)).toEqual([ERR_TLS_REQD]);
    expect((await c.option(OPT.GO, goRequest('vol-a'))).map((r) => r.type)).toEqual([ERR_TLS_REQD]);
    expect(seen).toEqual([]); // nothing was looked up for a client that has proved nothing
    c.sendOption(OPT.EXPORT_NAME, Buffer.from('vol-a'));
    await c.closed;
  });

  it('after STARTTLS and a PSK handshake, the resolver sees the identity; a second STARTTLS is refused', async () => {
    const plain = connect(server.port, '127.0.0.1');
    await once(plain, 'connect');
    const r = byteReader(plain);
    expect((await r.read(18)).subarray(8, 16).toString('latin1')).toBe('IHAVEOPT');
    plain.write(u32(3));
    plain.write(optionBytes(OPT.STARTTLS));
    expect((await r.reply()).type).toBe(REP.ACK);
    r.detach();
    const secure = tlsConnect({
      socket: plain,
      ciphers: 'PSK-AES128-GCM-SHA256',
      maxVersion: 'TLSv1.2',
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ identity: 'AKIAALICE', psk: key }),
    });
    await once(secure, 'secureConnect');
    const s = byteReader(secure);
    secure.write(optionBytes(OPT.LIST));
    const first = await s.reply();
    expect(first.type).toBe(REP.SERVER);
    expect((await s.reply()).type).toBe(REP.ACK);
    expect(seen).toEqual(['AKIAALICE']);
    secure.write(optionBytes(OPT.STARTTLS));
    expect((await s.reply()).type).toBe(REP.ERR_INVALID);
    secure.destroy();
  });

  it('drops a client whose key is wrong, and keeps serving others', async () => {
    const plain = connect(server.port, '127.0.0.1');
    await once(plain, 'connect');
    const r = byteReader(plain);
    await r.read(18);
    plain.write(u32(3));
    plain.write(optionBytes(OPT.STARTTLS));
    expect((await r.reply()).type).toBe(REP.ACK);
    r.detach();
    const secure = tlsConnect({ socket: plain, ciphers: 'PSK-AES128-GCM-SHA256', maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined, pskCallback: () => ({ identity: 'AKIAALICE', psk: randomBytes(32) }) });
    const [err] = (await once(secure, 'error').catch((e: unknown) => [e])) as [Error];
    expect(String(err)).toMatch(/alert|decrypt|handshake|ECONNRESET|socket/i);
    const c = await RawClient.handshake(server.port);
    expect((await c.option(OPT.LIST)).map((x) => x.type)).toEqual([ERR_TLS_REQD]);
    c.close();
  });
});

const ERR_TLS_REQD = 0x80000005;

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

function optionBytes(option: number, data = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(16);
  head.writeBigUInt64BE(0x49484156454f5054n, 0); // IHAVEOPT
  head.writeUInt32BE(option, 8);
  head.writeUInt32BE(data.length, 12);
  return Buffer.concat([head, data]);
}

/** Exact reads on a socket (plain or TLS) that can let go of it, for the STARTTLS switch. */
function byteReader(socket: Socket | TLSSocket) {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  };
  socket.on('data', onData);
  const read = async (n: number): Promise<Buffer> => {
    while (buf.length < n) await new Promise<void>((resolve) => (wake = resolve));
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  return {
    read,
    /** One option reply: magic, option, type, length, then its data. */
    reply: async () => {
      const h = await read(20);
      const data = await read(h.readUInt32BE(16));
      return { type: h.readUInt32BE(12), data };
    },
    detach: () => socket.off('data', onData),
  };
}
