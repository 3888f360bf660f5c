import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

function works(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** qemu-utils (Debian) provides both; CI installs it (.ci/run). */
export const hasQemu = works('qemu-img') && works('qemu-io');
/** Appended to describe() titles (and printed) so a skip says why in the test report. */
export const qemuSkipReason = hasQemu ? '' : ' [SKIPPED: qemu-img/qemu-io not found; apt-get install qemu-utils]';
if (!hasQemu) console.warn(`NBD tests against real clients${qemuSkipReason}`);

/** qemu's NBD URI: nbd://host:port/export-name (the name is the path without its slash). */
export const nbdUrl = (port: number, name: string): string => `nbd://127.0.0.1:${port}/${name}`;

/** Runs a tool; rejects with its stderr on a non-zero exit. */
export async function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP(cmd, args, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Small deterministic PRNG (mulberry32): test data is reproducible from a logged seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function randomBytes(size: number, next: () => number): Buffer {
  const buf = Buffer.alloc(size);
  const words = new Uint32Array(buf.buffer, buf.byteOffset, Math.floor(size / 4));
  for (let i = 0; i < words.length; i++) words[i] = next();
  return buf;
}
