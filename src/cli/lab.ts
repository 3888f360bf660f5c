/**
 * `ebs-sim lab <name> [--endpoint URL]`: runs one of the console's labs from a shell, printing a
 * narrated transcript, and exits 0 only if the claim the lab teaches held (1 if not, 2 on a
 * usage error). Without --endpoint it starts its own `ebs-sim serve` (a child process over a
 * temporary data directory, with the flags the lab wants, e.g. --copy-rate) and stops it after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LABS, LabRun, labNamed, type Lab, type LabCredentials, type LabLine } from '../labs/index.js';
import { withNodeFlags } from './node-flags.js';
import { UsageError } from './usage-error.js';

export const LAB_HELP = `Usage: ebs-sim lab <name> [--endpoint URL]

Runs a guided lesson against an ebs-sim server and checks the claim it teaches. Prints a narrated
transcript; exits 0 if the claim held, 1 if it did not, 2 on a usage error.

Labs:
${LABS.map((l) => `  ${l.name.padEnd(13)}${l.title}`).join('\n')}

Options:
  --endpoint URL  A running server, e.g. http://127.0.0.1:7447. Under --auth sigv4 the lab signs
                  its requests with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Without it, the
                  lab starts its own server on a free port over a temporary directory (with the
                  flags the lab wants, such as --copy-rate) and stops it after.
  -h, --help      This help.

The same labs run step by step in the web console: http://127.0.0.1:7447/console/#/labs
`;

export interface LabOptions {
  lab: Lab;
  endpoint?: string;
}

export function parseLabArgs(argv: string[]): LabOptions | 'help' {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { endpoint: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return 'help';
  const [name, ...extra] = positionals;
  if (name === undefined) throw new UsageError(`which lab? One of: ${LABS.map((l) => l.name).join(', ')} (ebs-sim lab --help).`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}' (ebs-sim lab --help).`);
  const lab = labNamed(name);
  if (!lab) throw new UsageError(`no lab '${name}'. Labs: ${LABS.map((l) => l.name).join(', ')}.`);
  if (values.endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(values.endpoint)) throw new UsageError(`--endpoint must be a URL such as http://127.0.0.1:7447, not '${values.endpoint}'.`);
  return { lab, ...(values.endpoint !== undefined ? { endpoint: values.endpoint.replace(/\/$/, '') } : {}) };
}

const out = (s = '') => process.stdout.write(`${s}\n`);

/** Wraps prose at 96 columns, indented. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > 96 - indent.length) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

function printLine(l: LabLine): void {
  if (l.kind === 'say') out(wrap(l.text, '   '));
  else if (l.kind === 'result') out(`   → ${l.text}`);
  else out(`   ${l.ok ? '✓' : '✗'} ${l.text}`);
}

export async function lab(opts: LabOptions): Promise<number> {
  const { lab } = opts;
  const own = opts.endpoint === undefined ? await startOwnServer(lab.serverArgs ?? []) : undefined;
  const endpoint = opts.endpoint ?? own!.endpoint;
  try {
    out(`Lab ${lab.name}: ${lab.title}`);
    out(wrap(lab.summary, ''));
    out(`Server: ${endpoint}${own ? ` (started for this lab${lab.serverArgs?.length ? ` with ${lab.serverArgs.join(' ')}` : ''})` : ''}`);
    const run = new LabRun(lab, endpoint, own ? undefined : credentialsFromEnv());
    let held = false;
    while (!run.done) {
      const step = await run.step();
      const def = lab.steps[step.step]!;
      out();
      out(`${step.step + 1}. ${def.title}`);
      out(wrap(def.explain, '   '));
      for (const l of step.lines) printLine(l);
      if (step.error) out(`   ✗ the step failed: ${step.error}`);
      if (step.done) held = step.claimHeld === true;
    }
    out();
    out(wrap(`Claim: ${lab.claim}`, ''));
    out(held ? 'The claim held.' : 'The claim did NOT hold.');
    return held ? 0 : 1;
  } finally {
    await own?.stop();
  }
}

/** AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as the AWS CLI reads them: a server under --auth sigv4 needs them. */
function credentialsFromEnv(): LabCredentials | undefined {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined;
}

/** How long the lab's own server may take to listen before the lab gives up (and stops it). */
const START_TIMEOUT_MS = 60_000;

/** `ebs-sim serve` in a child process: the same entry point as this one (built, or through tsx in development). */
async function startOwnServer(serverArgs: string[]): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ebs-sim-lab-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [...withNodeFlags(process.execArgv), process.argv[1]!, 'serve', '--port', '0', '--data-dir', join(dir, 'leveldb'), '--object-store', `fs:${join(dir, 'objects')}`, ...serverArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`the lab's server did not start listening within ${START_TIMEOUT_MS / 1000} s: ${stderr.trim()}`)), START_TIMEOUT_MS);
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the lab's server exited (${code}) before listening: ${stderr.trim()}`));
      });
    });
    child.stdout!.resume();
    return { endpoint, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
