/**
 * What a lab talks to: one ebs-sim, through its public HTTP interfaces only. The EC2 Query API
 * (POST /, form-encoded), the data plane (/data/volumes), the guest plane (/data/instances:
 * writes through the page cache, fsync, crash) and the console's API (what a deletion freed).
 * Requests are signed when credentials are given (a server under `--auth sigv4`); the console's
 * API is reached through a session signed in with them. Waits poll as the AWS CLI's waiters do.
 */
import { XMLParser } from 'fast-xml-parser';
import { signedHeaders, type LabCredentials } from './lab-signer.js';

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });
type Xml = Record<string, unknown>;

/** XML lists: one item parses as an object, several as an array. */
export function items(set: unknown): Xml[] {
  const item = (set as { item?: unknown } | undefined)?.item;
  if (item === undefined) return [];
  return (Array.isArray(item) ? item : [item]) as Xml[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Console session cookies by endpoint and key, for the process: each lab run would otherwise sign in anew (one more session each). */
const consoleCookies = new Map<string, string>();

export class LabClient {

  constructor(
    readonly endpoint: string,
    private readonly credentials?: LabCredentials,
    readonly region = 'us-east-1',
  ) {}

  /** fetch(), signed when the client has credentials. */
  private async send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array; unsignedPayload?: boolean } = {}): Promise<Response> {
    const url = `${this.endpoint}${path}`;
    const method = init.method ?? 'GET';
    let headers = init.headers ?? {};
    if (this.credentials) headers = await signedHeaders(this.credentials, this.region, { method, url, headers, ...(init.body !== undefined ? { body: init.body } : {}), ...(init.unsignedPayload ? { unsignedPayload: true } : {}) });
    return fetch(url, { method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
  }

  /** One EC2 action; returns the response element's children. Throws with EC2's code and message. */
  async ec2(action: string, params: Record<string, string | number | boolean> = {}): Promise<Xml> {
    const form = new URLSearchParams({ Action: action, Version: '2016-11-15' });
    for (const [k, v] of Object.entries(params)) form.set(k, String(v));
    const res = await this.send('/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form.toString() });
    const parsed = parser.parse(await res.text()) as Xml;
    if (res.status !== 200) {
      const err = ((parsed.Response as Xml | undefined)?.Errors as Xml | undefined)?.Error as Xml | undefined;
      throw new Error(`${action} failed: ${String(err?.Code ?? res.status)}: ${String(err?.Message ?? '')}`);
    }
    return parsed[`${action}Response`] as Xml;
  }

  async createVolume(sizeGiB: number, snapshotId?: string): Promise<string> {
    const r = await this.ec2('CreateVolume', { AvailabilityZone: `${this.region}a`, ...(snapshotId ? { SnapshotId: snapshotId } : { Size: sizeGiB }) });
    const id = String(r.volumeId);
    await this.waitVolume(id, (state) => state === 'available');
    return id;
  }

  async createSnapshot(volumeId: string, description: string): Promise<string> {
    const r = await this.ec2('CreateSnapshot', { VolumeId: volumeId, Description: description });
    return String(r.snapshotId);
  }

  async describeSnapshot(id: string): Promise<{ state: string; progress: string }> {
    const r = await this.ec2('DescribeSnapshots', { 'SnapshotId.1': id });
    const s = items(r.snapshotSet)[0]!;
    return { state: String(s.status), progress: String(s.progress) };
  }

  async waitSnapshotCompleted(id: string): Promise<void> {
    for (;;) {
      const { state } = await this.describeSnapshot(id);
      if (state === 'completed') return;
      if (state === 'error') throw new Error(`snapshot ${id} failed`);
      await sleep(100);
    }
  }

  async waitVolume(id: string, ok: (state: string, attachState?: string) => boolean): Promise<void> {
    for (;;) {
      const r = await this.ec2('DescribeVolumes', { 'VolumeId.1': id });
      const v = items(r.volumeSet)[0]!;
      const a = items(v.attachmentSet)[0];
      if (ok(String(v.status), a ? String(a.status) : undefined)) return;
      await sleep(100);
    }
  }

  async runInstance(): Promise<{ instanceId: string; rootVolumeId: string }> {
    const r = await this.ec2('RunInstances', { ImageId: 'ami-12345678', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 });
    const instanceId = String(items(r.instancesSet)[0]!.instanceId);
    for (;;) {
      const d = await this.ec2('DescribeInstances', { 'InstanceId.1': instanceId });
      const inst = items(items(d.reservationSet)[0]!.instancesSet)[0]!;
      if (String((inst.instanceState as Xml).name) === 'running') {
        const root = items(inst.blockDeviceMapping)[0]!;
        return { instanceId, rootVolumeId: String((root.ebs as Xml).volumeId) };
      }
      await sleep(100);
    }
  }

  async waitInstance(instanceId: string, state: string): Promise<void> {
    for (;;) {
      const d = await this.ec2('DescribeInstances', { 'InstanceId.1': instanceId });
      const inst = items(items(d.reservationSet)[0]!.instancesSet)[0]!;
      if (String((inst.instanceState as Xml).name) === state) return;
      await sleep(100);
    }
  }

  async attach(volumeId: string, instanceId: string, device: string): Promise<void> {
    await this.ec2('AttachVolume', { VolumeId: volumeId, InstanceId: instanceId, Device: device });
    await this.waitVolume(volumeId, (_s, a) => a === 'attached');
  }

  async writeVolume(volumeId: string, offset: number, data: Buffer | string): Promise<void> {
    await this.expectOk(this.send(`/data/volumes/${volumeId}?offset=${offset}`, { method: 'PUT', body: toBytes(data), unsignedPayload: true }), `write to ${volumeId}`);
  }

  async readVolume(volumeId: string, offset: number, length: number): Promise<Buffer> {
    const res = await this.expectOk(this.send(`/data/volumes/${volumeId}?offset=${offset}&length=${length}`), `read of ${volumeId}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** A write by the instance's OS: it lands in the page cache. */
  async guestWrite(instanceId: string, device: string, offset: number, data: Buffer | string): Promise<void> {
    await this.expectOk(this.send(`/data/instances/${instanceId}/devices/${device}?offset=${offset}`, { method: 'PUT', body: toBytes(data), unsignedPayload: true }), `guest write`);
  }

  async guestRead(instanceId: string, device: string, offset: number, length: number): Promise<Buffer> {
    const res = await this.expectOk(this.send(`/data/instances/${instanceId}/devices/${device}?offset=${offset}&length=${length}`), 'guest read');
    return Buffer.from(await res.arrayBuffer());
  }

  async guestDirtyBytes(instanceId: string): Promise<number> {
    const res = await this.expectOk(this.send(`/data/instances/${instanceId}`), 'describe guest');
    return ((await res.json()) as { dirtyBytes: number }).dirtyBytes;
  }

  async fsync(instanceId: string, device: string): Promise<number> {
    const res = await this.expectOk(this.send(`/data/instances/${instanceId}/devices/${device}/fsync`, { method: 'POST' }), 'fsync');
    return ((await res.json()) as { bytes: number }).bytes;
  }

  /** DeleteSnapshot through the console, which says what the deletion freed and kept. */
  async deleteSnapshotReporting(snapshotId: string): Promise<{ freedBlocks: number; keptBlocks: number; sharedWithParent: number }> {
    const post = async () => fetch(`${this.endpoint}/console/api/actions/delete-snapshot?region=${this.region}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(await this.consoleSession()) }, body: JSON.stringify({ snapshotId }),
    });
    let res = await post();
    // A reused session may have ended (idle, or the server restarted): sign in again, once.
    if (res.status === 403 && this.credentials && consoleCookies.delete(this.cookieKey())) res = await post();
    res = await this.expectOk(Promise.resolve(res), 'delete snapshot');
    return (await res.json()) as { freedBlocks: number; keptBlocks: number; sharedWithParent: number };
  }

  private cookieKey(): string {
    return `${this.endpoint}\0${this.credentials?.accessKeyId}\0${this.credentials?.secretAccessKey}`;
  }

  /** The console's session cookie, signed in with the credentials (none needed under `--auth none`). */
  private async consoleSession(): Promise<Record<string, string>> {
    if (!this.credentials) return {};
    let cookie = consoleCookies.get(this.cookieKey());
    if (cookie === undefined) {
      const session = (await (await this.expectOk(fetch(`${this.endpoint}/console/api/session`), 'console session')).json()) as { signedIn: boolean };
      if (session.signedIn) return {}; // --auth none: the console acts as the default account
      const res = await this.expectOk(
        fetch(`${this.endpoint}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(this.credentials) }),
        'console sign-in',
      );
      cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
      consoleCookies.set(this.cookieKey(), cookie);
    }
    return { cookie };
  }

  private async expectOk(pending: Promise<Response>, what: string): Promise<Response> {
    const res = await pending;
    if (res.status >= 300) throw new Error(`${what} failed: HTTP ${res.status} ${await res.text()}`);
    return res;
  }
}

function toBytes(data: Buffer | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Printable bytes as text, zeros as "\0…": what `od -c` would make visible. */
export function show(bytes: Buffer): string {
  if (bytes.every((b) => b === 0)) return `${bytes.length} zero bytes`;
  return JSON.stringify(bytes.toString('latin1').replace(/\0+$/, ''));
}
