/** `ebs-sim fsck`: runs the core's offline check and prints what it found. Exit 0 clean, 1 problems. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BlockStore } from '../core/block-store.js';
import type { FsckReport } from '../core/fsck.js';
import { DEFAULT_DATA_DIR } from './serve-args.js';
import { UsageError } from './usage-error.js';

export const FSCK_HELP = `Usage: ebs-sim fsck [--data-dir <dir>]

Checks a stopped server's storage (mark and sweep): every chunk a volume or snapshot references is
stored, refcounts are right, and the indexes agree with the block map. Read-only.

Options:
  --data-dir <dir>   Data directory of ebs-sim serve (default ${DEFAULT_DATA_DIR}).
  --json             Print the full report as JSON.
  -h, --help         Show this help.

Exit status: 0 clean, 1 problems found, 2 usage error or the store could not be opened.
`;

export function parseFsckArgs(args: string[]): { dataDir: string; json: boolean } | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`fsck takes no arguments, got '${positionals.join(' ')}'`);
  return { dataDir: values['data-dir'] ?? DEFAULT_DATA_DIR, json: values.json === true };
}

export async function fsck(opts: { dataDir: string; json: boolean }): Promise<number> {
  // BlockStore.open would create an empty store: checking a typo'd path must not look clean.
  if (!existsSync(opts.dataDir)) throw new UsageError(`no data directory at ${opts.dataDir}`);
  const { BlockStore: Store } = await import('../core/block-store.js');
  let store: BlockStore;
  try {
    store = await Store.open(opts.dataDir);
  } catch (err) {
    throw new UsageError(`cannot open ${opts.dataDir}: ${(err as Error).message} (is a server still running on it?)`);
  }
  try {
    const report = await store.fsck();
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(opts.dataDir, report));
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

export function formatReport(dir: string, r: FsckReport): string {
  const lines = [
    `fsck ${dir}: ${r.ok ? 'clean' : 'PROBLEMS FOUND'}`,
    `  volumes ${r.volumes}, snapshots ${r.snapshots}, block versions ${r.versions}, chunks ${r.chunks}`,
    `  chunks queued for the sweeper: ${r.queuedChunks}`,
  ];
  const list = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`  ${title} (${items.length}):`);
    for (const item of items.slice(0, 20)) lines.push(`    ${item}`);
    if (items.length > 20) lines.push(`    … and ${items.length - 20} more (--json lists them)`);
  };
  list('missing chunks (referenced, not stored)', r.missingChunks);
  list('refcount mismatches', r.refcountMismatches.map((m) => `${m.chunk}: stored ${m.stored}, actual ${m.actual}`));
  list('problems', r.problems);
  list('leaked chunks (stored, unreferenced; harmless)', r.leakedChunks);
  return `${lines.join('\n')}\n`;
}
