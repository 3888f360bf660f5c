/**
 * The codec behind a bare node:http server on 127.0.0.1 (the fastify server is someone else's),
 * called over a real socket by the AWS CLI and by JS v3 with its default HTTP handler: signatures
 * as they arrive on the wire (Host with port, Content-Length), and what the CLI prints.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { EC2Client, DescribeSnapshotsCommand, CreateVolumeCommand, DeleteVolumeCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeEc2Request, EC2_XML_CONTENT_TYPE, Ec2ProtocolError, encodeError, encodeResponse, type Ec2Output, type Ec2Request,
} from '../../src/protocol/ec2/index.js';
import { AuthError, verifySigV4, type VerifiedCaller } from '../../src/protocol/sigv4/index.js';

const run = promisify(execFile);
const awsCli = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'aws')).find((p) => {
  try { accessSync(p, constants.X_OK); return true; } catch { return false; }
});
const KEY = { id: 'AKIDE2EEXAMPLE', secret: 'e2e/secret+key' };
const created = new Date('2026-11-26T22:31:44.000Z');

/** Canned answers: just enough to see values make the whole trip. */
function answer(req: Ec2Request): { status: number; xml: (rid: string) => string } {
  switch (req.action) {
    case 'CreateVolume': {
      const out: Ec2Output['CreateVolume'] = {
        VolumeId: 'vol-e2e', Size: req.input.Size, AvailabilityZone: req.input.AvailabilityZone, State: 'creating',
        VolumeType: req.input.VolumeType, CreateTime: created, Attachments: [], SnapshotId: '', Encrypted: false,
        Tags: req.input.TagSpecifications?.flatMap((s) => s.Tags ?? []) ?? [],
      };
      return { status: 200, xml: (rid) => encodeResponse('CreateVolume', out, rid) };
    }
    case 'DescribeSnapshots':
      return {
        status: 200,
        xml: (rid) => encodeResponse('DescribeSnapshots', {
          Snapshots: [{ SnapshotId: 'snap-e2e', VolumeId: 'vol-e2e', State: 'pending', Progress: '37%', StartTime: created, OwnerId: '123456789012', Tags: [] }],
        }, rid),
      };
    case 'DescribeVolumes':
      return { status: 400, xml: (rid) => encodeError('InvalidVolume.NotFound', `The volume '${req.input.VolumeIds?.[0]}' does not exist.`, rid) };
    default:
      return { status: 200, xml: (rid) => encodeResponse('DeleteVolume', {}, rid) };
  }
}

interface Seen { caller: VerifiedCaller; request: Ec2Request }

describe('AWS CLI and JS v3 over a socket', () => {
  let server: Server;
  let endpoint = '';
  const seen: Seen[] = [];
  const seenFor = (action: string) => seen.filter((s) => s.request.action === action);

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const [path = '/', query = ''] = (req.url ?? '/').split('?');
        const rid = randomUUID();
        const send = (status: number, xml: string) => {
          res.writeHead(status, { 'content-type': EC2_XML_CONTENT_TYPE, 'x-amzn-requestid': rid, date: new Date().toUTCString() });
          res.end(xml);
        };
        try {
          const caller = verifySigV4({ method: req.method ?? 'POST', path, query, headers: req.headers, body },
            (id) => (id === KEY.id ? { secretAccessKey: KEY.secret, accountId: '123456789012' } : undefined), new Date());
          const request = decodeEc2Request(body.toString('utf8'));
          seen.push({ caller, request });
          const { status, xml } = answer(request);
          send(status, xml(rid));
        } catch (e) {
          if (e instanceof Ec2ProtocolError || e instanceof AuthError) send(e.httpStatus, encodeError(e.code, e.message, rid));
          else send(500, encodeError('InternalError', 'An internal error has occurred', rid));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const cli = (args: string[], env: Record<string, string> = {}) => run('aws', ['ec2', ...args, '--endpoint-url', endpoint, '--output', 'json'], {
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_ACCESS_KEY_ID: KEY.id, AWS_SECRET_ACCESS_KEY: KEY.secret, AWS_DEFAULT_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'true',
      AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '', ...env,
    },
    timeout: 60_000,
  }).then(({ stdout }) => ({ code: 0, stdout, stderr: '' }), (e: { code: number; stdout: string; stderr: string }) => e);

  describe.skipIf(awsCli === undefined)(`AWS CLI${awsCli ? '' : ' (skipped: no `aws` on PATH)'}`, () => {
  // Each CLI start costs ~2-3 s here, so the four invocations run at once.
  let runs: Record<'create' | 'describe' | 'notFound' | 'badSecret', Awaited<ReturnType<typeof cli>>>;
  beforeAll(async () => {
    const [create, describe, notFound, badSecret] = await Promise.all([
      cli(['create-volume', '--availability-zone', 'eu-west-1a', '--size', '8', '--volume-type', 'gp3',
        '--tag-specifications', 'ResourceType=volume,Tags=[{Key=Name,Value=data 1&2}]']),
      cli(['describe-snapshots', '--owner-ids', 'self', '--filters', 'Name=status,Values=completed,pending', '--max-results', '5', '--no-paginate'],
        { AWS_SESSION_TOKEN: 'SESSION+TOKEN/=' }),
      cli(['describe-volumes', '--volume-ids', 'vol-0123456789abcdef0']),
      cli(['delete-volume', '--volume-id', 'vol-1'], { AWS_SECRET_ACCESS_KEY: 'wrong' }),
    ]);
    runs = { create: create!, describe: describe!, notFound: notFound!, badSecret: badSecret! };
  }, 120_000);

  it('aws ec2 create-volume: tags with spaces and the region from the credential scope', () => {
    const r = runs.create;
    expect(r.stderr).toBe('');
    const printed = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      VolumeId: 'vol-e2e', Size: 8, State: 'creating', VolumeType: 'gp3', SnapshotId: '', Attachments: [],
      CreateTime: '2026-11-26T22:31:44.000Z', // CLI v1 prints the wire string
      Tags: [{ Key: 'Name', Value: 'data 1&2' }],
    });
    const [s] = seenFor('CreateVolume');
    expect(s!.caller).toEqual({ accessKeyId: KEY.id, accountId: '123456789012', region: 'eu-west-1', service: 'ec2' });
    expect(s!.request.input).toMatchObject({ AvailabilityZone: 'eu-west-1a', Size: 8, TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'data 1&2' }] }] });
  });

  it('aws ec2 describe-snapshots with filters and a session token', () => {
    expect(JSON.parse(runs.describe.stdout)).toEqual({ Snapshots: [{ SnapshotId: 'snap-e2e', VolumeId: 'vol-e2e', State: 'pending', Progress: '37%', StartTime: '2026-11-26T22:31:44.000Z', OwnerId: '123456789012', Tags: [] }] });
    const [s] = seenFor('DescribeSnapshots');
    expect(s!.caller.sessionToken).toBe('SESSION+TOKEN/=');
    expect(s!.request.input).toEqual({ OwnerIds: ['self'], Filters: [{ Name: 'status', Values: ['completed', 'pending'] }], MaxResults: 5 });
  });

  it('aws ec2 describe-volumes: an EC2 error reaches the CLI as such', () => {
    expect(runs.notFound.code).not.toBe(0);
    expect(runs.notFound.stderr).toContain("An error occurred (InvalidVolume.NotFound) when calling the DescribeVolumes operation: The volume 'vol-0123456789abcdef0' does not exist.");
  });

  it('a wrong secret: SignatureDoesNotMatch, and the request never reaches a handler', () => {
    expect(runs.badSecret.code).not.toBe(0);
    expect(runs.badSecret.stderr).toContain('An error occurred (SignatureDoesNotMatch) when calling the DeleteVolume operation');
    expect(seenFor('DeleteVolume')).toEqual([]);
  });
  });

  it('JS v3 with its default HTTP handler', async () => {
    const client = new EC2Client({ region: 'ap-southeast-2', endpoint, maxAttempts: 1, credentials: { accessKeyId: KEY.id, secretAccessKey: KEY.secret } });
    try {
      const vol = await client.send(new CreateVolumeCommand({ AvailabilityZone: 'ap-southeast-2a', Size: 3, TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'k', Value: 'v w' }] }] }));
      expect(vol).toMatchObject({ VolumeId: 'vol-e2e', Size: 3, CreateTime: created, Tags: [{ Key: 'k', Value: 'v w' }], Attachments: [] });
      expect(vol.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(seenFor('CreateVolume').at(-1)!.caller.region).toBe('ap-southeast-2');
      const snaps = await client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
      expect(snaps.Snapshots?.[0]?.StartTime).toEqual(created);
      await expect(client.send(new DeleteVolumeCommand({ VolumeId: 'vol-e2e' }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    } finally {
      client.destroy();
    }
  });
});
