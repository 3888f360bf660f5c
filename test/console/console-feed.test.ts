/**
 * The console's event stream and a page that stops reading: the server keeps at most about one
 * overview buffered for it (not every overview since), and sends it the newest once it reads again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimServer, type SimServer } from '../support/sim-server.js';

const BLOCK = 512 * 1024;
let s: SimServer;

beforeAll(async () => {
  s = await startSimServer();
});
afterAll(async () => s.close());

it('a client that does not read is sent no more than the newest overview, and gets it when it reads', async () => {
  const { accountId } = (await (await fetch(`${s.endpoint}/console/api/session`)).json()) as { accountId: string };
  const ctx = { accountId, region: 'us-east-1' };
  // ~300 rows: an overview of some 100 KB.
  const volumes: string[] = [];
  for (let i = 0; i < 300; i++) volumes.push((await s.sim.services.volumes.create(ctx, { availabilityZone: 'us-east-1a', sizeGiB: 1 })).volumeId);
  const overviewBytes = JSON.stringify(s.sim.services.console.overview(ctx)).length;

  // The server side of the stream, to read how much it holds buffered.
  let stream: ServerResponse | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/console/api/events')) stream = res;
  };
  s.app.server.on('request', onRequest);
  const url = new URL(s.endpoint);
  const socket = connect(Number(url.port), url.hostname);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.write(`GET /console/api/events HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
  socket.pause(); // never reads: the kernel's buffers fill, then the server's would
  try {
    while (!stream) await new Promise((r) => setImmediate(r));
    const target = volumes[0]!;
    let maxBuffered = 0;
    const writes = 150; // each changes the overview: 150 × 100 KB, far past what the sockets hold
    for (let i = 0; i < writes; i++) {
      const res = await fetch(`${s.endpoint}/console/api/actions/write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ volumeId: target, offset: i * BLOCK, text: 'x' }) });
      expect(res.status).toBe(200);
      maxBuffered = Math.max(maxBuffered, stream.writableLength);
    }
    expect(maxBuffered, `buffered ${maxBuffered} bytes with overviews of ${overviewBytes}`).toBeLessThan(3 * overviewBytes);
    // Reading again, it gets the newest overview.
    socket.resume();
    const newest = new RegExp(`"volumeId":"${target}"[^}]*"blocksSinceSnapshot":${writes}[,}]`);
    while (!newest.test(received)) await new Promise((r) => setTimeout(r, 20));
  } finally {
    s.app.server.off('request', onRequest);
    socket.destroy();
  }
}, 60_000);
