/**
 * SigV4 for the labs, so they also run against a server under `--auth sigv4`: the same signer the
 * JS SDK uses (@smithy/signature-v4), with node's crypto for its hashes. Data-plane writes sign
 * `UNSIGNED-PAYLOAD`, as the data plane asks (the body is written as it streams in).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface LabCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): Buffer =>
  typeof d === 'string' ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** node's crypto as the signer's hash (also what the tests' signed fetch uses). */
export class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
  reset(): void {
    throw new Error('not used');
  }
}

/** The headers that sign `method url` with `body` (or, with `unsignedPayload`, without hashing it). */
export async function signedHeaders(
  credentials: LabCredentials, region: string,
  request: { method: string; url: string; headers: Record<string, string>; body?: string | Uint8Array; unsignedPayload?: boolean },
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const headers: Record<string, string> = { host: url.host, ...request.headers };
  if (request.unsignedPayload) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const signer = new SignatureV4({ service: 'ec2', region, sha256: Sha256, credentials, applyChecksum: false });
  const signed = await signer.sign({
    method: request.method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers,
    ...(request.unsignedPayload || request.body === undefined ? {} : { body: request.body }),
  });
  const { host: _host, ...out } = signed.headers as Record<string, string>;
  return out;
}
