/** Runs test/protocol/helpers/botocore-client.py: a real boto3 client with a canned transport. */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./botocore-client.py', import.meta.url));

export const BOTO_ACCESS_KEY = 'AKIDEXAMPLE';
export const BOTO_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

/** Why botocore tests cannot run here, or undefined when boto3 imports. */
export function botocoreUnavailable(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import boto3, botocore'], { encoding: 'utf8' });
  if (r.error) return `python3 not runnable: ${r.error.message}`;
  return r.status === 0 ? undefined : `boto3/botocore not importable: ${r.stderr.trim().split('\n').pop()}`;
}

export interface BotoCall {
  action: string;
  params?: unknown;
  response: { status: number; headers?: Record<string, string>; body: string };
  region?: string;
  sessionToken?: string;
}
export interface BotoPresign { kind: 'presign'; action: string; params: unknown; region?: string; expiresIn?: number }

export interface BotoResult {
  result?: Record<string, unknown>;
  requestId?: string;
  error?: { Code: string; Message: string | null; RequestId: string; HTTPStatusCode: number };
  request: { method: string; url: string; headers: Record<string, string>; body: string };
  url?: string;
  exception?: string;
}

/** Dates cross the process boundary as { $date: iso }. */
function toWire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, function (this: Record<string, unknown>, k: string, v: unknown) {
    const original = this[k];
    return original instanceof Date ? { $date: original.toISOString() } : v;
  }));
}

function fromWire(_k: string, v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$date') return new Date((v as { $date: string }).$date);
  }
  return v;
}

/** One python process for a whole batch: botocore takes ~0.5 s to import. */
export function runBotocore(jobs: Array<BotoCall | BotoPresign>): Promise<BotoResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`botocore-client.py exited ${code}: ${err}`));
      const results = JSON.parse(out, fromWire) as BotoResult[];
      const broken = results.find((r) => r.exception !== undefined);
      if (broken) return reject(new Error(`botocore-client.py: ${broken.exception}`));
      resolve(results);
    });
    child.stdin.end(JSON.stringify(toWire(jobs)));
  });
}
