#!/usr/bin/env node
/** The `ebs-sim` command: `serve`, `fsck`, `nbd-psk`, `lab` and `bench`. */
import { CoreError } from '../core/errors.js';
import { fsck, FSCK_HELP, parseFsckArgs } from './fsck.js';
import { parseServeArgs, SERVE_HELP } from './serve-args.js';
import { UsageError } from './usage-error.js';

const MAIN_HELP = `Usage: ebs-sim <command> [options]

Amazon EBS as seen through the EC2 API, with real bytes.

Commands:
  serve    Run the server (EC2 Query API + data plane). \`ebs-sim serve --help\` lists its options.
  fsck     Check a stopped server's storage. \`ebs-sim fsck --help\`.
  nbd-psk  Print the TLS-PSK keys qemu needs for NBD under --auth sigv4. \`ebs-sim nbd-psk --help\`.
  lab      Run a guided lesson (page-cache, pending, multi-volume, incremental) and check its
           claim. \`ebs-sim lab --help\`.
  bench    Benchmark snapshot copies through the public APIs, with live progress, a report and
           plots; \`ebs-sim bench compare A.json B.json\` compares two runs. \`ebs-sim bench --help\`.

Example:
  ebs-sim serve --port 7447
  aws ec2 create-volume --availability-zone us-east-1a --size 8 --endpoint-url http://127.0.0.1:7447
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(MAIN_HELP);
      return command === undefined ? 2 : 0;
    case 'serve': {
      const config = parseServeArgs(rest);
      if (config === 'help') {
        process.stdout.write(SERVE_HELP);
        return 0;
      }
      const { serve } = await import('./serve.js');
      await serve(config);
      return -1; // keeps running until a signal
    }
    case 'fsck': {
      const opts = parseFsckArgs(rest);
      if (opts === 'help') {
        process.stdout.write(FSCK_HELP);
        return 0;
      }
      return fsck(opts);
    }
    case 'nbd-psk': {
      const { nbdPsk, NBD_PSK_HELP, parseNbdPskArgs } = await import('./nbd-psk.js');
      const opts = parseNbdPskArgs(rest);
      if (opts === 'help') {
        process.stdout.write(NBD_PSK_HELP);
        return 0;
      }
      return nbdPsk(opts);
    }
    case 'lab': {
      const { lab, LAB_HELP, parseLabArgs } = await import('./lab.js');
      const opts = parseLabArgs(rest);
      if (opts === 'help') {
        process.stdout.write(LAB_HELP);
        return 0;
      }
      return lab(opts);
    }
    case 'bench': {
      if (rest[0] === 'compare') {
        const { benchCompare } = await import('./bench.js');
        return benchCompare(rest.slice(1));
      }
      const { BENCH_HELP, parseBenchArgs } = await import('./bench-args.js');
      const config = parseBenchArgs(rest);
      if (config === 'help') {
        process.stdout.write(BENCH_HELP);
        return 0;
      }
      const { bench } = await import('./bench.js');
      return bench(config, ['bench', ...rest]);
    }
    default:
      throw new UsageError(`unknown command '${command}'. Commands: serve, fsck, nbd-psk, lab, bench (ebs-sim --help).`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    // parseArgs' own errors (unknown option, missing value) are usage errors too.
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const hint = usage && !(err instanceof UsageError) ? ` See 'ebs-sim ${process.argv[2] ?? ''} --help'.` : '';
    // Expected operational failures (data directory in use, port taken) need no stack trace.
    const known = usage || err instanceof CoreError || (err as { code?: string }).code === 'EADDRINUSE';
    process.stderr.write(known ? `ebs-sim: ${(err as Error).message}${hint}\n` : `ebs-sim: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
