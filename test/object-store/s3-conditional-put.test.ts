/**
 * putIfAbsent on an S3 server that does not implement conditional writes: it answers the
 * If-None-Match PUT with 501, and the store falls back to HEAD + PUT, from then on without
 * trying the condition again. A minimal fake endpoint on loopback records what it was sent.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3Store } from '../../src/object-store/index.js';

const requests: string[] = [];
const objects = new Map<string, Buffer>();
let server: Server;
let endpoint = '';

async function body(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const path = req.url!.split('?')[0]!;
    const conditional = req.headers['if-none-match'] !== undefined;
    requests.push(`${req.method} ${conditional ? 'if-none-match ' : ''}${path}`);
    const data = await body(req);
    if (req.method === 'PUT' && conditional) {
      res.writeHead(501, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>NotImplemented</Code><Message>conditional writes</Message></Error>');
    } else if (req.method === 'PUT') {
      objects.set(path, data);
      res.writeHead(200, { etag: '"e"' }).end();
    } else if (req.method === 'HEAD') {
      const o = objects.get(path);
      res.writeHead(o ? 200 : 404, o ? { 'content-length': String(o.length), etag: '"e"' } : {}).end();
    } else {
      res.writeHead(400).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('falls back to HEAD + PUT, once and for all, when the server answers 501 to a conditional PUT', async () => {
  const store = await S3Store.open({
    endpoint,
    bucket: 'b',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    expect(await store.putIfAbsent('blocks/one', Buffer.from('first'))).toBe(true);
    expect(await store.putIfAbsent('blocks/one', Buffer.from('again'))).toBe(false);
    expect(await store.putIfAbsent('blocks/two', Buffer.from('second'))).toBe(true);
    expect(requests).toEqual([
      'PUT if-none-match /b/blocks/one',
      'HEAD /b/blocks/one',
      'PUT /b/blocks/one',
      'HEAD /b/blocks/one',
      'HEAD /b/blocks/two',
      'PUT /b/blocks/two',
    ]);
    expect(objects.get('/b/blocks/one')?.toString()).toBe('first');
  } finally {
    await store.close();
  }
});
