/**
 * The server as a bench run sees it: only its public interfaces, the EC2 API (the AWS SDK), the
 * data plane (plain HTTP) and the EBS direct APIs (the AWS SDK). Requests are signed with fixed
 * keys, which a server under `--auth none` accepts.
 */
import { Agent } from 'node:http';
import { EBSClient } from '@aws-sdk/client-ebs';
import {
  CreateSnapshotCommand, CreateVolumeCommand, DeleteSnapshotCommand, DeleteVolumeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import { GiB } from './config.js';
import { LeanReader } from './lean-reader.js';
import type { BlockCopyTimes } from './results.js';

export interface SnapshotState {
  state: string;
  /** DescribeSnapshots' Progress, as a number of percent. */
  progress: number;
  message?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PublicClient {
  readonly ec2: EC2Client;
  readonly ebs: EBSClient;
  private readonly agent: Agent;
  private reader: LeanReader | undefined;
  /** What this run made on the server: what `removeMade` deletes. */
  readonly made = { volumes: new Set<string>(), snapshots: new Set<string>() };

  constructor(readonly endpoint: string, maxSockets = 64) {
    const credentials = { accessKeyId: 'ebs-sim-bench', secretAccessKey: 'ebs-sim-bench' };
    this.agent = new Agent({ keepAlive: true, maxSockets });
    this.ec2 = new EC2Client({ region: 'us-east-1', endpoint, credentials });
    this.ebs = new EBSClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1, requestHandler: { httpAgent: this.agent } });
  }

  /** CreateVolume, then DescribeVolumes until it is available. */
  async createVolume(input: { sizeBytes?: number; snapshotId?: string }): Promise<string> {
    const size = input.sizeBytes === undefined ? undefined : Math.max(1, Math.ceil(input.sizeBytes / GiB));
    const id = (await this.ec2.send(new CreateVolumeCommand({
      AvailabilityZone: 'us-east-1a', ...(size !== undefined ? { Size: size } : {}), ...(input.snapshotId ? { SnapshotId: input.snapshotId } : {}),
    }))).VolumeId!;
    this.made.volumes.add(id);
    for (;;) {
      const v = (await this.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;
      if (v.State === 'available') return id;
      if (v.State === 'error') throw new Error(`volume ${id} went to error`);
      await sleep(20);
    }
  }

  async createSnapshot(volumeId: string): Promise<string> {
    const id = (await this.ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId, Description: 'ebs-sim bench' }))).SnapshotId!;
    this.made.snapshots.add(id);
    return id;
  }

  /**
   * Deletes the volumes and snapshots this run made (8 calls at a time), so that a run against a
   * server it did not start leaves nothing of its own there. One already gone counts as removed;
   * any other failure is returned, not thrown: the run's figures stand either way.
   */
  async removeMade(): Promise<{ volumes: number; snapshots: number; failures: string[] }> {
    const failures: string[] = [];
    const gone = (err: unknown) => /NotFound/.test((err as { name?: string }).name ?? '');
    const remove = async (kind: string, ids: Set<string>, send: (id: string) => Promise<unknown>) => {
      let removed = 0;
      await pool([...ids], 8, async (id) => {
        try {
          await send(id);
          removed++;
        } catch (err) {
          if (gone(err)) removed++;
          else failures.push(`${kind} ${id}: ${(err as Error).message}`);
        }
      });
      return removed;
    };
    const volumes = await remove('volume', this.made.volumes, (id) => this.ec2.send(new DeleteVolumeCommand({ VolumeId: id })));
    const snapshots = await remove('snapshot', this.made.snapshots, (id) => this.ec2.send(new DeleteSnapshotCommand({ SnapshotId: id })));
    return { volumes, snapshots, failures };
  }

  async describeSnapshots(ids: string[]): Promise<Map<string, SnapshotState>> {
    const out = new Map<string, SnapshotState>();
    const { Snapshots } = await this.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }));
    for (const s of Snapshots ?? []) {
      out.set(s.SnapshotId!, { state: s.State ?? 'unknown', progress: Number.parseFloat(s.Progress ?? '0') || 0, ...(s.StateMessage ? { message: s.StateMessage } : {}) });
    }
    return out;
  }

  /**
   * Per-block copy times of the server's latest copies, by snapshot id, from its test-control
   * stats; undefined where the server was not started with --allow-control.
   */
  async blockCopyTimes(): Promise<Record<string, BlockCopyTimes> | undefined> {
    const res = await fetch(`${this.endpoint}/_ebs-sim/stats`);
    if (res.status !== 200) {
      await res.body?.cancel();
      return undefined;
    }
    const stats = (await res.json()) as { copies?: { blockCopyTimes?: Record<string, BlockCopyTimes> } };
    return stats.copies?.blockCopyTimes;
  }

  /** One data-plane write of `body` at `offset`. */
  async write(volumeId: string, offset: number, body: Buffer): Promise<void> {
    const res = await fetch(`${this.endpoint}/data/volumes/${volumeId}?offset=${offset}`, { method: 'PUT', body });
    if (res.status !== 200) throw new Error(`data-plane write of ${volumeId} at ${offset}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }

  /** One data-plane read; the number of bytes received, counted and dropped (lean-reader.ts: not fetch, to spare the shared CPU). */
  read(volumeId: string, offset: number, length: number): Promise<number> {
    this.reader ??= new LeanReader(this.endpoint);
    return this.reader.get(`/data/volumes/${volumeId}?offset=${offset}&length=${length}`);
  }

  destroy(): void {
    this.reader?.close();
    this.ec2.destroy();
    this.ebs.destroy();
    this.agent.destroy();
  }
}

/** Runs `fn` over `items` with `workers` callers at a time. */
export async function pool<T>(items: readonly T[], workers: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(workers, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}
