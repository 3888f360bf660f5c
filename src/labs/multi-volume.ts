/** Lab `multi-volume`: crash consistency across volumes, CreateSnapshot against CreateSnapshots. */
import type { Lab, LabContext } from './lab.js';
import { items } from './lab-client.js';

const RECORD = 32;

/** The writer: a database that keeps its log and its data on two volumes in lockstep. */
async function writeRecord(ctx: LabContext, n: number): Promise<void> {
  const rec = `record ${n}`.padEnd(RECORD, ' ');
  await ctx.client.writeVolume(String(ctx.state.logVolume), 0, rec);
  await ctx.client.writeVolume(String(ctx.state.dataVolume), 0, rec);
  ctx.result(`the writer wrote "record ${n}" to the log volume, then to the data volume`);
}

async function restoredRecords(ctx: LabContext, logSnap: string, dataSnap: string): Promise<[string, string]> {
  await Promise.all([ctx.client.waitSnapshotCompleted(logSnap), ctx.client.waitSnapshotCompleted(dataSnap)]);
  const [a, b] = await Promise.all([ctx.client.createVolume(1, logSnap), ctx.client.createVolume(1, dataSnap)]);
  const read = async (v: string) => (await ctx.client.readVolume(v, 0, RECORD)).toString('latin1').trim();
  return [await read(a), await read(b)];
}

export const multiVolumeLab: Lab = {
  name: 'multi-volume',
  title: 'Crash consistency across volumes',
  summary: 'A writer keeps two volumes in lockstep. Two separate CreateSnapshot calls freeze them at two instants and catch them out of step; CreateSnapshots freezes both at one instant.',
  claim: 'CreateSnapshots freezes all of an instance\'s volumes at one instant: restored, they are in step. Separate CreateSnapshot calls are not.',
  steps: [
    {
      title: 'An instance with a log volume and a data volume',
      explain: 'Two 1 GiB volumes attached at /dev/sdf (log) and /dev/sdg (data). The writer writes each record to both.',
      async run(ctx) {
        const { instanceId } = await ctx.client.runInstance();
        const [logVolume, dataVolume] = await Promise.all([ctx.client.createVolume(1), ctx.client.createVolume(1)]);
        await ctx.client.attach(logVolume, instanceId, '/dev/sdf');
        await ctx.client.attach(dataVolume, instanceId, '/dev/sdg');
        Object.assign(ctx.state, { instanceId, logVolume, dataVolume });
        ctx.result(`instance ${instanceId}: log ${logVolume} at /dev/sdf, data ${dataVolume} at /dev/sdg`);
        await writeRecord(ctx, 1);
      },
    },
    {
      title: 'Two separate CreateSnapshot calls',
      explain: 'A backup script snapshots the log volume, then the data volume. The writer does not stop in between: it writes record 2 between the two calls.',
      async run(ctx) {
        const logSnap = await ctx.client.createSnapshot(String(ctx.state.logVolume), 'log, alone');
        await writeRecord(ctx, 2);
        const dataSnap = await ctx.client.createSnapshot(String(ctx.state.dataVolume), 'data, alone');
        const [log, data] = await restoredRecords(ctx, logSnap, dataSnap);
        ctx.result(`restored: log says "${log}", data says "${data}"`);
        ctx.check(log !== data, `the separate snapshots caught the volumes out of step (${log} / ${data})`);
      },
    },
    {
      title: 'CreateSnapshots: one instant for both',
      explain: 'CreateSnapshots freezes every volume of the instance in one step (here without the root volume). The writer writes record 3 right after the call; the set holds record 2 on both.',
      async run(ctx) {
        const r = await ctx.client.ec2('CreateSnapshots', { 'InstanceSpecification.InstanceId': String(ctx.state.instanceId), 'InstanceSpecification.ExcludeBootVolume': true, Description: 'log and data, together' });
        await writeRecord(ctx, 3);
        const set = items(r.snapshotSet);
        const of = (v: unknown) => String(set.find((s) => String(s.volumeId) === String(v))!.snapshotId);
        const [log, data] = await restoredRecords(ctx, of(ctx.state.logVolume), of(ctx.state.dataVolume));
        ctx.result(`restored from the set: log says "${log}", data says "${data}"`);
        ctx.check(log === data, `the set's volumes are in step (${log} / ${data})`);
      },
    },
  ],
};
