/**
 * Isolation under --auth sigv4, two accounts: B must not see, read, write, snapshot or open A's
 * volume, over EC2, the data plane, the EBS direct APIs or NBD (TLS-PSK, with qemu-img). A's own
 * access is the control.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { runCli } from '../test/support/cli-server.js';
import { findOnPath } from '../test/support/moto-server.js';
import { send, signRequest, type Key } from '../test/support/signed-fetch.js';
import { ec2Client, startServer, type PhaseResult, type SoakContext } from './harness.js';

const A = { accessKeyId: 'AKIASOAKALICE', secretAccessKey: 'alice-soak-secret', accountId: '111111111111' };
const B = { accessKeyId: 'AKIASOAKBOB', secretAccessKey: 'bob-soak-secret', accountId: '222222222222' };

export async function runIsolation(ctx: SoakContext): Promise<PhaseResult> {
  const dir = join(ctx.root, 'isolation');
  mkdirSync(dir, { recursive: true });
  const credentials = join(dir, 'credentials.json');
  writeFileSync(credentials, JSON.stringify({ credentials: [A, B] }));
  const server = await startServer(ctx, dir, ['--auth', 'sigv4', '--credentials', credentials, '--nbd-port', '0']);
  const nbdPort = Number(/nbd:\/\/127\.0\.0\.1:(\d+)/.exec(server.log())?.[1] ?? 0);
  const alice = ec2Client(server.endpoint, A);
  const bob = ec2Client(server.endpoint, B);
  const checks: Array<{ surface: string; what: string; ok: boolean; detail: string }> = [];
  const check = (surface: string, what: string, ok: boolean, detail = '') => checks.push({ surface, what, ok, detail });
  let skipped: string | undefined;
  const refused = async (p: Promise<unknown>) => p.then(() => 'allowed', (e: { Code?: string; name?: string }) => e.Code ?? e.name ?? 'error');
  const data = (key: Key, method: string, path: string, body?: Buffer) =>
    signRequest(key, { method, url: `${server.endpoint}${path}`, headers: {}, ...(body ? { body } : {}) }, { unsignedPayload: body !== undefined }).then(send);
  try {
    const vol = (await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const secret = Buffer.alloc(4096, 'alice-only');
    const w = await data(A, 'PUT', `/data/volumes/${vol}?offset=0`, secret);
    check('data plane', 'A writes its own volume (control)', w.status === 200, String(w.status));

    // EC2
    const described = await bob.send(new DescribeVolumesCommand({})).then((o) => o.Volumes ?? []);
    check('EC2', "B's DescribeVolumes does not list A's volume", !described.some((v) => v.VolumeId === vol));
    const byId = await refused(bob.send(new DescribeVolumesCommand({ VolumeIds: [vol] })));
    check('EC2', "B's DescribeVolumes of A's id is NotFound", byId === 'InvalidVolume.NotFound', byId);
    const snap = await refused(bob.send(new CreateSnapshotCommand({ VolumeId: vol })));
    check('EC2', "B cannot snapshot A's volume", snap === 'InvalidVolume.NotFound', snap);
    const aSnap = (await alice.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    const bSnaps = await bob.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] })).then((o) => o.Snapshots ?? []);
    check('EC2', "B does not see A's snapshot", !bSnaps.some((s) => s.SnapshotId === aSnap));
    const restore = await refused(bob.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: aSnap })));
    check('EC2', "B cannot restore A's unshared snapshot", restore !== 'allowed', restore);

    // Data plane
    const read = await data(B, 'GET', `/data/volumes/${vol}?offset=0&length=4096`);
    const readBody = Buffer.from(await read.arrayBuffer());
    check('data plane', "B cannot read A's volume", read.status === 404 && !readBody.includes(Buffer.from('alice-only')), String(read.status));
    const write = await data(B, 'PUT', `/data/volumes/${vol}?offset=0`, Buffer.alloc(4096, 'bob'));
    check('data plane', "B cannot write A's volume", write.status === 404, String(write.status));
    const mine = await data(A, 'GET', `/data/volumes/${vol}?offset=0&length=4096`);
    check('data plane', "A's bytes are untouched", Buffer.from(await mine.arrayBuffer()).equals(secret));
    const unsigned = await fetch(`${server.endpoint}/data/volumes/${vol}?offset=0&length=4096`);
    check('data plane', 'an unsigned read is refused', unsigned.status === 403 || unsigned.status === 401, String(unsigned.status));

    // EBS direct APIs: A's CreateSnapshot snapshot, read block by block; a snapshot A writes.
    const ebs = (key: typeof A) => new EBSClient({ region: 'us-east-1', endpoint: server.endpoint, credentials: key, maxAttempts: 1 });
    const [aEbs, bEbs] = [ebs(A), ebs(B)];
    try {
      for (let i = 0; i < 300; i++) {
        const st = (await alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [aSnap] }))).Snapshots?.[0]?.State;
        if (st !== 'pending') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const listed = await aEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: aSnap })).then((o) => o.Blocks ?? [], () => []);
      check('direct API', "A lists its own snapshot's blocks (control)", listed.length === 1, String(listed.length));
      const bList = await refused(bEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: aSnap })));
      check('direct API', "B cannot list A's snapshot", bList === 'ResourceNotFoundException', bList);
      const token = listed[0]?.BlockToken ?? 'x';
      const bGet = await refused(bEbs.send(new GetSnapshotBlockCommand({ SnapshotId: aSnap, BlockIndex: 0, BlockToken: token })));
      check('direct API', "B cannot read A's block, even with A's token", bGet === 'ResourceNotFoundException', bGet);
      const started = (await aEbs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!;
      const block = Buffer.alloc(512 * 1024, 'bob');
      const bPut = await refused(bEbs.send(new PutSnapshotBlockCommand({
        SnapshotId: started, BlockIndex: 0, BlockData: block, DataLength: block.length, Checksum: createHash('sha256').update(block).digest('base64'), ChecksumAlgorithm: 'SHA256',
      })));
      check('direct API', "B cannot write A's open snapshot", bPut === 'ResourceNotFoundException', bPut);
      const unsignedList = await fetch(`${server.endpoint}/snapshots/${aSnap}/blocks`);
      check('direct API', 'an unsigned listing is refused', unsignedList.status === 403, String(unsignedList.status));
    } finally {
      aEbs.destroy();
      bEbs.destroy();
    }

    // NBD over TLS-PSK, with qemu-img.
    const qemu = (key: typeof A, name: string) => {
      const keys = join(dir, `psk-${key.accountId}`);
      return runCli(['nbd-psk', '--credentials', credentials, '--access-key-id', key.accessKeyId, '--dir', keys]).then(() =>
        promisify(execFile)('qemu-img', ['info', '--object', `tls-creds-psk,id=tls0,endpoint=client,dir=${keys},username=${key.accessKeyId}`, '--image-opts',
          `driver=nbd,host=127.0.0.1,port=${nbdPort},export=${name},tls-creds=tls0`], { timeout: 20_000 }).then(() => 'opened', (e: Error) => e.message));
    };
    if (!findOnPath('qemu-img')) {
      skipped = 'SKIPPED: qemu-img is not installed (apt-get install qemu-utils)';
    } else if (nbdPort) {
      const own = await qemu(A, vol);
      check('NBD', 'A opens its own export over TLS-PSK (control)', own === 'opened', own.slice(0, 120));
      const other = await qemu(B, vol);
      check('NBD', "B cannot open A's export", other !== 'opened', other.slice(0, 120));
      const plain = await promisify(execFile)('qemu-img', ['info', `nbd://127.0.0.1:${nbdPort}/${vol}`], { timeout: 20_000 }).then(() => 'opened', (e: Error) => e.message);
      check('NBD', 'a client without TLS is refused', plain !== 'opened', plain.slice(0, 120));
    } else {
      check('NBD', 'NBD listener', false, 'no NBD port in the server log');
    }
  } finally {
    alice.destroy();
    bob.destroy();
    await server.stop();
  }
  ctx.log(`  isolation: ${checks.filter((c) => c.ok).length} of ${checks.length} checks hold`);
  return {
    figures: ['EC2', 'data plane', 'direct API', 'NBD'].map((surface) => {
      const mine = checks.filter((c) => c.surface === surface);
      if (surface === 'NBD' && skipped) return { phase: 'isolation (sigv4)', figure: surface, value: skipped };
      return { phase: 'isolation (sigv4)', figure: surface, value: `${mine.filter((c) => c.ok).length} of ${mine.length} checks hold`, target: 'all', ok: mine.every((c) => c.ok) };
    }),
    failures: checks.filter((c) => !c.ok).map((c) => `${c.surface}: ${c.what} (${c.detail})`),
  };
}
