/** Runs one of the e2e Python scripts (boto3) and returns its JSON output; a failure shows its stderr. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function runPythonScript(script: string, args: string[], env: Record<string, string> = {}): Promise<any> {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  // No ~/.aws/config: the script's own endpoint and credentials only.
  const { stdout } = await run('python3', [path, ...args], { env: { ...process.env, AWS_CONFIG_FILE: '/nonexistent/ebs-sim-test', ...env } })
    .catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`${script} ${args.join(' ')} failed:\n${e.stderr}\n${e.stdout}`);
    });
  return JSON.parse(stdout);
}
