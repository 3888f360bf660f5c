/**
 * A real ebs-sim on 127.0.0.1 (port 0) over a fresh temp dir: LevelDB and an fs object store,
 * as `ebs-sim serve` runs it. For tests that drive it with real clients.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { Simulator, type SimulatorOptions } from '../../src/simulator.js';
import { tempDir } from './temp-dir.js';

export interface SimServer {
  endpoint: string;
  sim: Simulator;
  app: FastifyInstance;
  dir: string;
  /** An EC2 client for this server (region us-east-1 unless given). */
  client(opts?: { region?: string; accessKeyId?: string; secretAccessKey?: string }): EC2Client;
  close(): Promise<void>;
}

export async function startSimServer(
  opts: { app?: AppOptions; sim?: Partial<SimulatorOptions> } = {},
): Promise<SimServer> {
  const tmp = tempDir('ebs-sim-server-');
  const sim = await Simulator.open({
    dataDir: join(tmp.dir, 'leveldb'),
    objectStore: `fs:${join(tmp.dir, 'objects')}`,
    ...opts.sim,
  });
  const app = await buildApp(sim, opts.app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: EC2Client[] = [];
  return {
    endpoint,
    sim,
    app,
    dir: tmp.dir,
    client: ({ region = 'us-east-1', accessKeyId = 'test', secretAccessKey = 'test' } = {}) => {
      const c = new EC2Client({ region, endpoint, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await app.close();
      await sim.close();
      tmp.remove();
    },
  };
}

/** Writes bytes through the data plane (unsigned: for `--auth none`). */
export async function putBytes(endpoint: string, volumeId: string, offset: number, data: Buffer): Promise<Response> {
  return fetch(`${endpoint}/data/volumes/${volumeId}?offset=${offset}`, { method: 'PUT', body: data });
}

export async function getBytes(endpoint: string, volumeId: string, offset: number, length: number): Promise<Buffer> {
  const res = await fetch(`${endpoint}/data/volumes/${volumeId}?offset=${offset}&length=${length}`);
  if (res.status !== 200) throw new Error(`GET ${volumeId} → ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}
