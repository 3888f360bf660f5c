/**
 * Test helpers for instances: launch one through the SDK, and the guest data plane
 * (/data/instances/...) over real HTTP, as curl would use it.
 */
import { RunInstancesCommand, type EC2Client, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';

export async function launch(ec2: EC2Client, input: Partial<RunInstancesCommandInput> = {}): Promise<{ instanceId: string; rootVolumeId: string }> {
  const r = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...input }));
  const i = r.Instances![0]!;
  const root = i.BlockDeviceMappings!.find((b) => b.DeviceName === '/dev/sda1');
  return { instanceId: i.InstanceId!, rootVolumeId: root?.Ebs?.VolumeId ?? '' };
}

export class Guest {
  constructor(
    readonly endpoint: string,
    readonly instanceId: string,
  ) {}

  private url(path: string): string {
    return `${this.endpoint}/data/instances/${this.instanceId}${path}`;
  }

  async write(device: string, offset: number, data: Buffer): Promise<void> {
    const res = await fetch(this.url(`/devices/${device}?offset=${offset}`), { method: 'PUT', body: data });
    if (res.status !== 200) throw new Error(`PUT ${device} → ${res.status} ${await res.text()}`);
  }

  async read(device: string, offset: number, length: number): Promise<Buffer> {
    const res = await fetch(this.url(`/devices/${device}?offset=${offset}&length=${length}`));
    if (res.status !== 200) throw new Error(`GET ${device} → ${res.status} ${await res.text()}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** POST an action (`devices/sdf/fsync`, `sync`, `crash`, `freeze`…); returns the JSON answer. */
  async post(path: string): Promise<{ bytes: number; devices: Array<{ device: string; volumeId: string; bytes: number }> }> {
    const res = await fetch(this.url(`/${path}`), { method: 'POST' });
    if (res.status !== 200) throw new Error(`POST ${path} → ${res.status} ${await res.text()}`);
    return (await res.json()) as { bytes: number; devices: Array<{ device: string; volumeId: string; bytes: number }> };
  }

  async fsync(device: string): Promise<number> {
    return (await this.post(`devices/${device}/fsync`)).bytes;
  }

  /** GET /data/instances/{id}: devices and the bytes dirty in each one's cache. */
  async describe(): Promise<{ state: string; dirtyBytes: number; devices: Array<{ device: string; name: string; volumeId: string; dirtyBytes: number; frozen: boolean; root: boolean }> }> {
    const res = await fetch(this.url(''));
    if (res.status !== 200) throw new Error(`GET instance → ${res.status} ${await res.text()}`);
    return (await res.json()) as Awaited<ReturnType<Guest['describe']>>;
  }

  /** A raw request, for error answers. */
  raw(method: string, path: string, body?: Buffer): Promise<Response> {
    return fetch(this.url(path), { method, ...(body ? { body } : {}) });
  }
}

/** Polls `check` until it returns true (for states that settle by the clock). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
