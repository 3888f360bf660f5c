/**
 * A seeded fuzz pass: random EC2 Query bodies, data-plane requests, EBS direct-API requests and
 * NBD byte streams. Every HTTP answer must be a proper error of its protocol (EC2: an XML
 * `<Response><Errors>` or a valid answer, never a 5xx; data plane: JSON `{code, message}`; direct
 * API: rest-json `{Message}` with `x-amzn-ErrorType`), an NBD server may close the connection but
 * must stay up, and the server answers health checks throughout.
 */
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CreateVolumeCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { ec2Client, rng, sleep, startServer, type PhaseResult, type SoakContext } from './harness.js';

const ACTIONS = ['DescribeVolumes', 'CreateVolume', 'CreateSnapshot', 'DeleteSnapshot', 'DescribeSnapshots', 'AttachVolume', 'CreateTags', 'ModifyVolume', 'RunInstances', 'CopySnapshot', 'NoSuchAction', ''];
const PARAMS = ['VolumeId', 'SnapshotId', 'Size', 'AvailabilityZone', 'Filter.1.Name', 'Filter.1.Value.1', 'MaxResults', 'NextToken', 'TagSpecification.1.Tag.1.Key', 'VolumeType', 'Iops', 'InstanceId', 'Device', 'DryRun', 'Tag.1.Key', 'Version'];
/** Direct-API paths, some real (a started snapshot, its block 0), most not. */
const directPath = (r: ReturnType<typeof rng>, snap: string) =>
  r.pick([
    '/snapshots', `/snapshots/${snap}`, `/snapshots/${snap}/blocks`, `/snapshots/${snap}/blocks/0`, `/snapshots/${snap}/blocks/${r.int(-3, 2 ** 33)}`,
    `/snapshots/${snap}/changedblocks`, `/snapshots/completion/${snap}`, '/snapshots/snap-0/blocks', '/snapshots/snap-%00/blocks', `/snapshots/${snap}/blocks/x`,
  ]);
const DIRECT_QUERIES = ['', '?pageToken=AAAA', '?maxResults=-1', '?maxResults=99999', '?blockToken=x', '?startingBlockIndex=1e3', '?firstSnapshotId=snap-1', '?secondSnapshotId='];
const DIRECT_HEADERS = ['x-amz-Data-Length', 'x-amz-Checksum', 'x-amz-Checksum-Algorithm', 'x-amz-ChangedBlocksCount', 'x-amz-Progress', 'content-type'];
const VALUES = ['', 'vol-0', 'vol-00000000000000000', 'snap-1', '-1', '0', '99999999999999999999', 'us-east-1a', 'gp3', 'io2', '*a*a*a*a*ab', 'true', '%00', '\u0000', 'é', 'x'.repeat(300), '2016-11-15', '1e3', '[]'];

export async function runFuzz(ctx: SoakContext, opts: { requests: number }): Promise<PhaseResult> {
  const dir = join(ctx.root, 'fuzz');
  mkdirSync(dir, { recursive: true });
  const server = await startServer(ctx, dir, ['--nbd-port', '0']);
  const nbdPort = Number(/nbd:\/\/127\.0\.0\.1:(\d+)/.exec(server.log())?.[1] ?? 0);
  const ec2 = ec2Client(server.endpoint);
  const r = rng(ctx.seed + 3);
  const failures: string[] = [];
  const bad = (what: string) => failures.length < 20 && failures.push(what);
  let ec2Sent = 0;
  let dataSent = 0;
  let nbdSent = 0;
  let directSent = 0;
  try {
    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const started = await fetch(`${server.endpoint}/snapshots`, { method: 'POST', body: JSON.stringify({ VolumeSize: 1 }), headers: { 'content-type': 'application/json' } });
    const directSnap = started.ok ? ((await started.json()) as { SnapshotId: string }).SnapshotId : 'snap-0123456789abcdef0';
    if (!started.ok) bad(`StartSnapshot answered ${started.status}`);
    const each = Math.ceil(opts.requests / 3);
    for (let i = 0; i < each; i++) {
      // EC2 Query: a form of random fields, sometimes not a form at all.
      const form = new URLSearchParams();
      form.set('Action', r.pick(ACTIONS));
      if (r.next() < 0.9) form.set('Version', r.next() < 0.9 ? '2016-11-15' : r.pick(VALUES));
      for (let p = r.int(0, 5); p > 0; p--) form.append(r.pick(PARAMS), r.next() < 0.2 ? volumeId : r.pick(VALUES));
      const body = r.next() < 0.1 ? r.bytes(r.int(1, 300)).toString('latin1') : form.toString();
      const res = await fetch(`${server.endpoint}/`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      const text = await res.text();
      ec2Sent++;
      if (res.status >= 500 && !text.includes('<Code>ServiceUnavailable</Code>')) bad(`EC2 ${body.slice(0, 120)} → ${res.status} ${text.slice(0, 200)}`);
      else if (res.status >= 400 && !/^<\?xml[^>]*>\s*<Response><Errors><Error><Code>[A-Za-z.]+<\/Code>/.test(text)) bad(`EC2 ${body.slice(0, 120)} → ${res.status} not EC2 XML: ${text.slice(0, 200)}`);

      // Data plane: random methods, paths and queries.
      const method = r.pick(['GET', 'PUT', 'POST', 'DELETE', 'PATCH']);
      const target = r.pick([volumeId, 'vol-0', 'vol-00000000000000000', '..', '%2e%2e', '']);
      const query = r.pick(['', '?offset=', '?offset=-1', `?offset=${r.int(0, 2 ** 31)}`, `?offset=0&length=${r.int(-5, 2 ** 21)}`, '?offset=1e3', '?length=5', '?offset=0&offset=1']);
      const path = r.pick([`/data/volumes/${target}`, `/data/volumes/${target}/flush`, `/data/instances/${target}`, '/data/', '/data/volumes']);
      const payload = method === 'PUT' || method === 'POST' ? r.bytes(r.int(0, 8192)) : undefined;
      const dres = await fetch(`${server.endpoint}${path}${query}`, { method, ...(payload ? { body: payload } : {}) });
      const dtext = await dres.text();
      dataSent++;
      if (dres.status >= 500) bad(`data plane ${method} ${path}${query} → ${dres.status} ${dtext.slice(0, 200)}`);
      else if (dres.status >= 400) {
        let parsed: { code?: unknown; message?: unknown } | undefined;
        try {
          parsed = JSON.parse(dtext) as { code?: unknown; message?: unknown };
        } catch {
          parsed = undefined;
        }
        if (typeof parsed?.code !== 'string' || typeof parsed.message !== 'string') bad(`data plane ${method} ${path}${query} → ${dres.status} not {code,message}: ${dtext.slice(0, 200)}`);
      }

      // EBS direct API: random methods, paths, queries, headers and bodies under /snapshots.
      const dmethod = r.pick(['GET', 'PUT', 'POST', 'DELETE']);
      const headers: Record<string, string> = {};
      for (let h = r.int(0, 3); h > 0; h--) headers[r.pick(DIRECT_HEADERS)] = r.pick(VALUES).replace(/[^\x20-\x7e]/g, '?');
      const dbody = dmethod === 'PUT' || dmethod === 'POST' ? (r.next() < 0.5 ? r.bytes(r.int(0, 4096)) : Buffer.from(JSON.stringify({ VolumeSize: r.pick([1, -1, 0, 'x', 2 ** 40]), ChangedBlocksCount: r.int(-1, 3) }))) : undefined;
      const xpath = `${directPath(r, directSnap)}${r.pick(DIRECT_QUERIES)}`;
      const xres = await fetch(`${server.endpoint}${xpath}`, { method: dmethod, headers, ...(dbody ? { body: dbody } : {}) });
      const xtext = await xres.text();
      directSent++;
      if (xres.status >= 500) bad(`direct API ${dmethod} ${xpath} → ${xres.status} ${xtext.slice(0, 200)}`);
      else if (xres.status >= 400) {
        let parsed: { Message?: unknown } | undefined;
        try {
          parsed = JSON.parse(xtext) as { Message?: unknown };
        } catch {
          parsed = undefined;
        }
        if (!xres.headers.get('x-amzn-errortype') || typeof parsed?.Message !== 'string') bad(`direct API ${dmethod} ${xpath} → ${xres.status} not a rest-json error: ${xtext.slice(0, 200)}`);
      }

      // NBD: random bytes after (or instead of) a proper greeting's reply.
      if (nbdPort) {
        await new Promise<void>((resolve) => {
          const sock = connect(nbdPort, '127.0.0.1');
          const done = () => resolve(sock.destroy() && undefined);
          sock.setTimeout(2_000, done);
          sock.on('error', done);
          sock.on('close', done);
          sock.once('data', () => {
            const prefix = r.next() < 0.5 ? Buffer.from([0, 0, 0, r.int(0, 3)]) : Buffer.alloc(0); // client flags, sometimes
            sock.end(Buffer.concat([prefix, r.bytes(r.int(0, 600))]));
          });
        });
        nbdSent++;
      }
      if (i % 50 === 0) {
        const health = await fetch(`${server.endpoint}/_ebs-sim/health`);
        if (health.status !== 200) bad(`health answered ${health.status} after ${i} rounds`);
      }
    }
    // Still healthy, still serving.
    await sleep(100);
    const after = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
    if (after.Volumes?.[0]?.VolumeId !== volumeId) bad('DescribeVolumes after the fuzz pass did not find the volume');
    if (server.child.exitCode !== null) bad(`the server exited (${server.child.exitCode})`);
  } finally {
    ec2.destroy();
    await server.stop();
  }
  ctx.log(`  fuzz: ${ec2Sent} EC2, ${dataSent} data-plane, ${directSent} direct-API, ${nbdSent} NBD requests`);
  const ok = failures.length === 0;
  return {
    figures: [
      { phase: 'fuzz', figure: 'seeded random EC2 Query bodies', value: String(ec2Sent), target: 'EC2 XML errors, no 5xx', ok },
      { phase: 'fuzz', figure: 'seeded random data-plane requests', value: String(dataSent), target: 'JSON {code,message}, no 5xx', ok },
      { phase: 'fuzz', figure: 'seeded random EBS direct-API requests', value: String(directSent), target: 'rest-json errors with x-amzn-ErrorType, no 5xx', ok },
      { phase: 'fuzz', figure: 'seeded random NBD byte streams', value: String(nbdSent), target: 'server stays up', ok },
    ],
    failures,
  };
}
