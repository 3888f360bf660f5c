/**
 * HTTP the parser refuses never reaches a route; it is still answered in the protocol it was for
 * (data plane JSON, EC2 XML), never fastify's own JSON. Raw sockets, since no client sends it.
 */
import { connect } from 'node:net';
import { CreateVolumeCommand } from '@aws-sdk/client-ec2';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, startSimServer, type SimServer } from '../support/sim-server.js';

/** Sends the pieces (a pause between them, so they arrive as separate packets) and reads until close. */
async function raw(port: number, pieces: string[]): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  for (const p of pieces) {
    socket.write(p);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  await closed;
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

const xml = new XMLParser();

describe('requests the HTTP parser refuses', () => {
  let s: SimServer;
  let port: number;
  let vol: string;
  beforeAll(async () => {
    s = await startSimServer();
    port = Number(new URL(s.endpoint).port);
    vol = (await s.client().send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
  });
  afterAll(() => s.close());

  it('data plane: a broken chunk after the headers is BAD_REQUEST JSON, and writes nothing', async () => {
    const r = await raw(port, [`PUT /data/volumes/${vol}?offset=0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, '4\r\nabcd\r\n', 'zz\r\nabc\r\n0\r\n\r\n']);
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(r.body)).toEqual({ code: 'BAD_REQUEST', message: expect.stringMatching(/HPE_INVALID_CHUNK_SIZE.*chunk size/) });
    expect((await getBytes(s.endpoint, vol, 0, 4)).equals(Buffer.alloc(4))).toBe(true);
  });

  it('data plane: a Content-Length that is not a number is BAD_REQUEST JSON', async () => {
    const r = await raw(port, [`PUT /data/volumes/${vol}?offset=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 4x\r\n\r\nabcd`]);
    expect([r.status, JSON.parse(r.body).code]).toEqual([400, 'BAD_REQUEST']);
    expect(JSON.parse(r.body).message).toMatch(/Content-Length/);
  });

  it('EC2: a bad, a doubled Content-Length and a broken chunk are InvalidRequest XML with a request id', async () => {
    const form = 'Action=DescribeVolumes&Version=2016-11-15';
    const cases = [
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4x\r\n\r\n${form}`,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n${form}`,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nqq\r\n${form}\r\n0\r\n\r\n`,
    ];
    for (const c of cases) {
      const r = await raw(port, [c]);
      expect(r.status, c).toBe(400);
      expect(r.headers['content-type']).toMatch(/^text\/xml/);
      const doc = xml.parse(r.body) as { Response: { Errors: { Error: { Code: string; Message: string } }; RequestID: string } };
      expect(doc.Response.Errors.Error.Code).toBe('InvalidRequest');
      expect(doc.Response.Errors.Error.Message).toMatch(/could not be parsed as HTTP\/1\.1/);
      expect(doc.Response.RequestID).toBe(r.headers['x-amzn-requestid']);
    }
  });

  it('EC2: a missing Version is MissingParameter, another one NoSuchVersion', async () => {
    const post = (body: string) => fetch(s.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const missing = await post('Action=DescribeVolumes');
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/<Code>MissingParameter<\/Code><Message>The request must contain the parameter Version\.<\/Message>/);
    const other = await post('Action=DescribeVolumes&Version=2099-01-01');
    expect(other.status).toBe(400);
    expect(await other.text()).toMatch(/<Code>NoSuchVersion<\/Code><Message>The requested version \(2099-01-01\)/);
    expect((await post('Action=DescribeVolumes&Version=2016-11-15')).status).toBe(200);
  });
});
