/**
 * The node flags the server runs with: `npm start` names them (`test/cli/node-flags.test.ts`
 * holds it to this list), and every command that starts a server of its own (bench, lab, and the
 * tests', benchmarks' and soak's servers) adds them. Not the bin's shebang: flags there need
 * `env -S`, which BusyBox (Alpine's node images), OpenBSD and NetBSD lack, so `npx ebs-sim`
 * would not start at all; run directly, `NODE_OPTIONS=--max-semi-space-size=8` gives them.
 *
 * --max-semi-space-size=8 (MiB): V8 grows its young generation to 2 x 16 MiB when many
 * short-lived objects survive a scavenge, which is what 50 clients queued ~400 ms on the service
 * lock look like. The server's live heap under that load is ~26 MB, and V8's heap was 80-100 MB of
 * the peak RSS. Capped at 2 x 8 MiB, the same 1-minute soak load peaked at 218 MiB instead of
 * 247 MiB, with the same call latencies and cycle count (docs/design-notes.md, "Measured limits").
 * V8 reads it only at start-up (v8.setFlagsFromString is too late), hence a flag.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

const flagName = (arg: string) => arg.split('=')[0];

/** `execArgv` and then our flags, except those the caller already set (their value wins). */
export function withNodeFlags(execArgv: readonly string[]): string[] {
  const own = new Set(execArgv.map(flagName));
  return [...execArgv, ...NODE_FLAGS.filter((f) => !own.has(flagName(f)))];
}
