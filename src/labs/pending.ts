/** Lab `pending`: writes while a snapshot is `pending` do not reach it. */
import type { Lab } from './lab.js';

const MiB = 1024 * 1024;
const SIZE = 8 * MiB;
const BLOCK = 512 * 1024;

/** 8 MiB of one letter, each 512 KiB block labelled with its number, so no two blocks deduplicate. */
function content(letter: string): Buffer {
  const buf = Buffer.alloc(SIZE, letter);
  for (let b = 0; b < SIZE / BLOCK; b++) buf.write(`block ${b} `, b * BLOCK, 'latin1');
  return buf;
}

export const pendingLab: Lab = {
  name: 'pending',
  title: 'Writes during pending',
  summary: 'A snapshot is frozen at the instant CreateSnapshot is accepted, though its copy runs on (pending). Overwriting the volume meanwhile changes the volume, not the snapshot.',
  claim: "A restore holds the bytes of the snapshot's instant, whatever was written while it was pending.",
  serverArgs: ['--copy-rate', '2MiB'],
  steps: [
    {
      title: 'A volume with 8 MiB of A',
      explain: 'A 1 GiB volume gets 8 MiB of the letter A (each 512 KiB block labelled with its number): sixteen distinct blocks the snapshot will have to upload.',
      async run(ctx) {
        const volumeId = await ctx.client.createVolume(1);
        await ctx.client.writeVolume(volumeId, 0, content('A'));
        ctx.state.volumeId = volumeId;
        ctx.result(`volume ${volumeId}: 8 MiB of A at offset 0`);
      },
    },
    {
      title: 'CreateSnapshot: pending',
      explain: 'The snapshot is frozen now, in O(1); the copy engine then uploads its blocks to the object store, slowed here by --copy-rate, and the snapshot shows pending with real progress.',
      async run(ctx) {
        const snapshotId = await ctx.client.createSnapshot(String(ctx.state.volumeId), 'frozen with A');
        const d = await ctx.client.describeSnapshot(snapshotId);
        ctx.state.snapshotId = snapshotId;
        ctx.result(`snapshot ${snapshotId}: ${d.state}, ${d.progress}`);
      },
    },
    {
      title: 'Overwrite the volume while the copy runs',
      explain: 'The same 8 MiB are overwritten with B while the snapshot is still uploading. The writes go to new versions of the blocks: the frozen ones stay for the copy.',
      async run(ctx) {
        await ctx.client.writeVolume(String(ctx.state.volumeId), 0, content('B'));
        const d = await ctx.client.describeSnapshot(String(ctx.state.snapshotId));
        ctx.state.overwrittenWhile = d.state;
        ctx.result(`overwritten with B; the snapshot is ${d.state} (${d.progress})${d.state === 'pending'
          ? ': the writes landed during pending'
          : ': its copy had already finished (a server started with --copy-rate 2MiB keeps it pending longer)'}`);
      },
    },
    {
      title: 'Restore: the bytes of the instant',
      explain: 'Once the snapshot completes, a volume restored from it reads A everywhere; the live volume reads B.',
      async run(ctx) {
        const snapshotId = String(ctx.state.snapshotId);
        await ctx.client.waitSnapshotCompleted(snapshotId);
        const restored = await ctx.client.createVolume(1, snapshotId);
        const bytes = await ctx.client.readVolume(restored, 0, SIZE);
        const live = await ctx.client.readVolume(String(ctx.state.volumeId), 0, SIZE);
        const allA = bytes.equals(content('A'));
        const allB = live.equals(content('B'));
        ctx.result(`restored ${restored}: ${allA ? '8 MiB of A' : 'NOT all A'}; the live volume: ${allB ? '8 MiB of B' : 'not all B'}`);
        ctx.check(allA, `the restore holds the snapshot's instant (A)${ctx.state.overwrittenWhile === 'pending' ? ', though the volume was overwritten while it was pending' : ''}`);
        ctx.check(allB, 'the volume holds the later writes (B)');
      },
    },
  ],
};
