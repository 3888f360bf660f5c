/** Lab `incremental`: the incremental chain, and what deleting a middle snapshot frees (the deadlist rule). */
import type { Lab, LabContext } from './lab.js';

const BLOCK = 512 * 1024;

/** What each snapshot should hold, block by block ('' = never written). */
const EXPECTED: Record<string, string[]> = {
  s1: ['v1', 'v1', 'v1', 'v1', '', ''],
  s3: ['v1', 'v1', 'v2', 'v3', 'v3', 'v2'],
};

async function writeBlocks(ctx: LabContext, blocks: number[], text: string): Promise<void> {
  for (const b of blocks) await ctx.client.writeVolume(String(ctx.state.volumeId), b * BLOCK, text);
  ctx.result(`wrote "${text}" to blocks ${blocks.join(', ')}`);
}

async function snapshot(ctx: LabContext, key: string, description: string): Promise<void> {
  const id = await ctx.client.createSnapshot(String(ctx.state.volumeId), description);
  await ctx.client.waitSnapshotCompleted(id);
  ctx.state[key] = id;
  ctx.result(`${key.toUpperCase()} = ${id} (completed)`);
}

export const incrementalLab: Lab = {
  name: 'incremental',
  title: 'The incremental chain and deletion',
  summary: 'Three snapshots of one volume, each holding only the blocks written since the one before. Deleting the middle one frees only what neither of its neighbours sees: ZFS\'s deadlist rule.',
  claim: 'Deleting a snapshot frees exactly the blocks no other snapshot (nor the volume) still sees; every other snapshot restores intact.',
  steps: [
    {
      title: 'S1: four blocks',
      explain: 'Blocks 0-3 of a new 1 GiB volume are written ("v1"), then snapshot S1 holds those four blocks.',
      async run(ctx) {
        ctx.state.volumeId = await ctx.client.createVolume(1);
        await writeBlocks(ctx, [0, 1, 2, 3], 'v1');
        await snapshot(ctx, 's1', 'S1');
      },
    },
    {
      title: 'S2: two overwritten, two new',
      explain: 'Blocks 2 and 3 are overwritten and blocks 4 and 5 written ("v2"). S2 uploads only those four blocks; it shares blocks 0 and 1 with S1.',
      async run(ctx) {
        await writeBlocks(ctx, [2, 3, 4, 5], 'v2');
        await snapshot(ctx, 's2', 'S2');
      },
    },
    {
      title: 'S3: two more overwritten',
      explain: 'Blocks 3 and 4 are overwritten ("v3"), then S3. S3 still sees the v2 versions of blocks 2 and 5, written in S2\'s time.',
      async run(ctx) {
        await writeBlocks(ctx, [3, 4], 'v3');
        await snapshot(ctx, 's3', 'S3');
      },
    },
    {
      title: 'Delete S2',
      explain: 'S2 holds four versions of its own (blocks 2-5 at v2). S3 still sees blocks 2 and 5 at v2: kept. Blocks 3 and 4 at v2 were overwritten before S3: nobody else sees them, so they are freed. Blocks 0 and 1 belong to S1 and stay.',
      async run(ctx) {
        const r = await ctx.client.deleteSnapshotReporting(String(ctx.state.s2));
        ctx.result(`deleted S2: freed ${r.freedBlocks} blocks, kept ${r.keptBlocks} (still seen by S3), ${r.sharedWithParent} shared with S1 untouched`);
        ctx.check(r.freedBlocks === 2, 'the deletion freed 2 blocks (blocks 3 and 4 at v2: nobody else sees them)');
        ctx.check(r.keptBlocks === 2, 'the deletion kept 2 blocks (blocks 2 and 5 at v2: S3 still sees them)');
      },
    },
    {
      title: 'S1 and S3 restore intact',
      explain: 'Restoring S1 and S3 reads back, block by block, what each held when it was taken.',
      async run(ctx) {
        for (const key of ['s1', 's3'] as const) {
          const vol = await ctx.client.createVolume(1, String(ctx.state[key]));
          const got: string[] = [];
          for (let b = 0; b < 6; b++) got.push((await ctx.client.readVolume(vol, b * BLOCK, 2)).toString('latin1').replace(/\0/g, ''));
          ctx.result(`${key.toUpperCase()} restored: ${got.map((g, b) => `${b}:${g || '-'}`).join(' ')}`);
          ctx.check(JSON.stringify(got) === JSON.stringify(EXPECTED[key]), `${key.toUpperCase()} restores intact`);
        }
      },
    },
  ],
};
