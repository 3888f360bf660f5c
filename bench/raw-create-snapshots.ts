/** CreateSnapshot as a bare client sends it: SigV4-signed beforehand, one keep-alive connection. */
import { Agent, request as httpRequest } from 'node:http';
import { signRequest } from '../test/support/signed-fetch.js';

/** Latencies (ms) of `calls` CreateSnapshot requests, signed beforehand, on one keep-alive connection. */
export async function rawCreateSnapshots(endpoint: string, region: string, volumeIds: string[], calls: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(endpoint);
  const key = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const times: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const body = `Action=CreateSnapshot&Version=2016-11-15&VolumeId=${volumeIds[i % volumeIds.length]}`;
      const signed = await signRequest(key, { method: 'POST', url: `${endpoint}/`, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body }, { region });
      const t = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: url.hostname, port: url.port, path: '/', method: 'POST', headers: { ...signed.headers, 'content-length': Buffer.byteLength(body) }, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
      times.push(performance.now() - t);
      if (status !== 200) throw new Error(`CreateSnapshot answered ${status} at call ${i}`);
    }
  } finally {
    agent.destroy();
  }
  return times;
}
