/** The bench's lean HTTP reader against the real server: exact byte counts, errors, kept-alive sockets. */
import { CreateVolumeCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeanReader } from '../../src/bench/lean-reader.js';
import { Rng } from '../support/random.js';
import { putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

const MiB = 1024 * 1024;
let s: SimServer;
let volumeId: string;

beforeAll(async () => {
  s = await startSimServer();
  volumeId = (await s.client().send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
  expect((await putBytes(s.endpoint, volumeId, 0, new Rng(3).bytes(16 * MiB))).status).toBe(200);
});
afterAll(() => s.close());

const connections = () => new Promise<number>((resolve, reject) => s.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

describe('LeanReader', () => {
  it('counts every byte of each response, on one kept-alive socket', async () => {
    const before = await connections(); // the setup's clients'
    const reader = new LeanReader(s.endpoint);
    try {
      for (const length of [0, 1, 4096, MiB + 17, 8 * MiB]) {
        expect(await reader.get(`/data/volumes/${volumeId}?offset=5&length=${length}`)).toBe(length);
      }
      expect(await connections()).toBe(before + 1);
      const together = await Promise.all([1, 2, 3, 4].map((i) => reader.get(`/data/volumes/${volumeId}?offset=${i * MiB}&length=${2 * MiB}`)));
      expect(together).toEqual([2 * MiB, 2 * MiB, 2 * MiB, 2 * MiB]);
    } finally {
      reader.close();
    }
  });

  it('rejects with the status and the server\'s message, and goes on after it', async () => {
    const reader = new LeanReader(s.endpoint);
    try {
      await expect(reader.get('/data/volumes/vol-0123456789abcdef0?offset=0&length=10')).rejects.toThrow(/: 404 .*InvalidVolume\.NotFound|: 404 .*vol-0123456789abcdef0/);
      await expect(reader.get(`/data/volumes/${volumeId}?offset=0&length=${2 * 1024 * MiB}`)).rejects.toThrow(/: 41\d /);
      expect(await reader.get(`/data/volumes/${volumeId}?offset=0&length=100`)).toBe(100);
    } finally {
      reader.close();
    }
  });

  it('sends a GET again on a new socket when the server closed the kept-alive one', async () => {
    const reader = new LeanReader(s.endpoint);
    try {
      expect(await reader.get(`/data/volumes/${volumeId}?offset=0&length=10`)).toBe(10);
      s.app.server.closeIdleConnections();
      expect(await reader.get(`/data/volumes/${volumeId}?offset=0&length=10`)).toBe(10);
    } finally {
      reader.close();
    }
  });

  it('rejects when nothing listens', async () => {
    const reader = new LeanReader('http://127.0.0.1:1');
    await expect(reader.get('/')).rejects.toThrow(/ECONNREFUSED/);
    reader.close();
    expect(() => new LeanReader('https://127.0.0.1:1')).toThrow(/plain HTTP/);
  });
});
