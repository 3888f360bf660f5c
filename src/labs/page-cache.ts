/** Lab `page-cache`: what a snapshot misses. The seed page's lesson, with real bytes. */
import type { Lab } from './lab.js';
import { show } from './lab-client.js';

const TEXT = 'grades: alice A, bob B\n';
const ROOT_TEXT = 'config: version 2\n';

export const pageCacheLab: Lab = {
  name: 'page-cache',
  title: 'What a snapshot misses',
  summary: 'A write through an instance sits in its page cache: a snapshot taken now restores zeros. After an fsync the next snapshot holds the data. For a root volume, stop the instance first.',
  claim: 'A snapshot holds only what the volume holds: writes still dirty in the page cache are missing until an fsync (or a stop) writes them back.',
  steps: [
    {
      title: 'Launch an instance with a data volume',
      explain: 'RunInstances gives an instance with an 8 GiB root volume at /dev/sda1; a 1 GiB volume is attached at /dev/sdf. Guest I/O goes through the instance, behind a simulated OS page cache.',
      async run(ctx) {
        const { instanceId, rootVolumeId } = await ctx.client.runInstance();
        const volumeId = await ctx.client.createVolume(1);
        await ctx.client.attach(volumeId, instanceId, '/dev/sdf');
        Object.assign(ctx.state, { instanceId, rootVolumeId, volumeId });
        ctx.result(`instance ${instanceId} (root ${rootVolumeId}), data volume ${volumeId} at /dev/sdf`);
      },
    },
    {
      title: 'The guest writes a file and does not fsync',
      explain: 'The write lands in the page cache as dirty pages. The guest reads its own write back; the volume itself does not hold it yet.',
      async run(ctx) {
        const i = String(ctx.state.instanceId);
        await ctx.client.guestWrite(i, 'sdf', 0, TEXT);
        ctx.result(`guest reads ${show(await ctx.client.guestRead(i, 'sdf', 0, TEXT.length))}`);
        ctx.result(`the volume reads ${show(await ctx.client.readVolume(String(ctx.state.volumeId), 0, TEXT.length))}`);
        ctx.result(`dirty in the page cache: ${await ctx.client.guestDirtyBytes(i)} bytes`);
      },
    },
    {
      title: 'A snapshot taken now misses it',
      explain: 'CreateSnapshot freezes what the volume holds at that instant. Restoring it into a new volume and reading it back shows zeros: the data was only in the cache.',
      async run(ctx) {
        const s1 = await ctx.client.createSnapshot(String(ctx.state.volumeId), 'before fsync');
        await ctx.client.waitSnapshotCompleted(s1);
        const r1 = await ctx.client.createVolume(1, s1);
        const bytes = await ctx.client.readVolume(r1, 0, TEXT.length);
        Object.assign(ctx.state, { s1, r1 });
        ctx.result(`snapshot ${s1} completed; restored as ${r1}, which reads ${show(bytes)}`);
        ctx.check(bytes.every((b) => b === 0), 'the snapshot taken before the fsync restores zeros');
      },
    },
    {
      title: 'fsync',
      explain: 'An fsync writes the dirty pages back to the volume: now the volume holds the file.',
      async run(ctx) {
        const bytes = await ctx.client.fsync(String(ctx.state.instanceId), 'sdf');
        ctx.result(`fsync wrote back ${bytes} bytes; the volume reads ${show(await ctx.client.readVolume(String(ctx.state.volumeId), 0, TEXT.length))}`);
      },
    },
    {
      title: 'A second snapshot holds it',
      explain: 'The next snapshot freezes the volume with the file on it; its restore reads the text back.',
      async run(ctx) {
        const s2 = await ctx.client.createSnapshot(String(ctx.state.volumeId), 'after fsync');
        await ctx.client.waitSnapshotCompleted(s2);
        const r2 = await ctx.client.createVolume(1, s2);
        const bytes = await ctx.client.readVolume(r2, 0, TEXT.length);
        Object.assign(ctx.state, { s2, r2 });
        ctx.result(`snapshot ${s2} completed; restored as ${r2}, which reads ${show(bytes)}`);
        ctx.check(bytes.toString('utf8') === TEXT, 'the snapshot taken after the fsync restores the file');
      },
    },
    {
      title: 'A root volume: stop the instance first',
      explain: 'AWS advises stopping an instance before snapshotting its root volume. A clean stop writes every dirty page back, so a snapshot taken after it holds everything the guest wrote.',
      async run(ctx) {
        const i = String(ctx.state.instanceId);
        await ctx.client.guestWrite(i, 'sda1', 0, ROOT_TEXT);
        ctx.result(`wrote ${JSON.stringify(ROOT_TEXT.trim())} to /dev/sda1 (dirty: ${await ctx.client.guestDirtyBytes(i)} bytes)`);
        await ctx.client.ec2('StopInstances', { 'InstanceId.1': i });
        await ctx.client.waitInstance(i, 'stopped');
        const s3 = await ctx.client.createSnapshot(String(ctx.state.rootVolumeId), 'root, instance stopped');
        await ctx.client.waitSnapshotCompleted(s3);
        const r3 = await ctx.client.createVolume(8, s3);
        const bytes = await ctx.client.readVolume(r3, 0, ROOT_TEXT.length);
        ctx.result(`instance stopped; root snapshot ${s3} restored as ${r3} reads ${show(bytes)}`);
        ctx.check(bytes.toString('utf8') === ROOT_TEXT, 'the root snapshot taken after a stop holds what the guest wrote');
      },
    },
  ],
};
