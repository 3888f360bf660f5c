/** `ebs-sim nbd-psk`: the TLS-PSK key file qemu needs to reach NBD under `--auth sigv4`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { derivePskKey, pskFileLine } from '../nbd/tls-psk.js';
import { loadCredentialsFile } from '../server/auth.js';
import { UsageError } from './usage-error.js';

export const NBD_PSK_HELP = `Usage: ebs-sim nbd-psk --credentials <file> [--access-key-id <id>] [--dir <dir>]

Prints the TLS-PSK keys with which qemu reaches \`ebs-sim serve --auth sigv4 --nbd-port N\`: one
line per access key, "<access-key-id>:<hex key>", the format of GnuTLS's keys.psk. The identity
is the access key id; the key is derived from its secret, so only its holder can compute it. A
client sees only the exports (volumes, instance devices) of that key's account.

Options:
  --credentials <file>    The same credentials file as ebs-sim serve --credentials.
  --access-key-id <id>    Only this key (default: every key in the file).
  --dir <dir>             Write <dir>/keys.psk (mode 0600) instead of printing.
  -h, --help              Show this help.

Example:
  ebs-sim nbd-psk --credentials creds.json --access-key-id AKIAEXAMPLE1 --dir ./psk
  qemu-img info --object tls-creds-psk,id=tls0,endpoint=client,dir=./psk,username=AKIAEXAMPLE1 \\
    --image-opts driver=nbd,host=127.0.0.1,port=10809,export=vol-0123456789abcdef0,tls-creds=tls0
`;

export interface NbdPskOptions {
  credentialsFile: string;
  accessKeyId?: string;
  dir?: string;
}

export function parseNbdPskArgs(args: string[]): NbdPskOptions | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      credentials: { type: 'string' },
      'access-key-id': { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`nbd-psk takes no arguments, got '${positionals.join(' ')}'`);
  if (values.credentials === undefined) throw new UsageError('nbd-psk needs --credentials <file>');
  return {
    credentialsFile: values.credentials,
    ...(values['access-key-id'] !== undefined ? { accessKeyId: values['access-key-id'] } : {}),
    ...(values.dir !== undefined ? { dir: values.dir } : {}),
  };
}

export function nbdPsk(opts: NbdPskOptions): number {
  let credentials;
  try {
    credentials = loadCredentialsFile(opts.credentialsFile);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const ids = opts.accessKeyId === undefined ? [...credentials.keys()] : [opts.accessKeyId];
  const lines = ids.map((id) => {
    const key = credentials.get(id);
    if (!key) throw new UsageError(`access key ${id} is not in ${opts.credentialsFile}`);
    return pskFileLine(id, derivePskKey(key.secretAccessKey));
  });
  const text = `${lines.join('\n')}\n`;
  if (opts.dir === undefined) {
    process.stdout.write(text);
    return 0;
  }
  mkdirSync(opts.dir, { recursive: true });
  const file = join(opts.dir, 'keys.psk');
  writeFileSync(file, text, { mode: 0o600 });
  process.stderr.write(`wrote ${file} (${lines.length} key${lines.length === 1 ? '' : 's'})\n`);
  return 0;
}
