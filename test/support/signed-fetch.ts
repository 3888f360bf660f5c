/** fetch() with a SigV4 signature made by @smithy/signature-v4 (the JS SDK's signer). */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/labs/lab-signer.js';

export interface Key {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

/** Signs a request; `unsignedPayload` signs `x-amz-content-sha256: UNSIGNED-PAYLOAD` instead of the body hash. */
export async function signRequest(
  key: Key, call: SignedCall, opts: { region?: string; service?: string; unsignedPayload?: boolean; date?: Date } = {},
): Promise<SignedCall> {
  const url = new URL(call.url);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const headers: Record<string, string> = { host: url.host, ...call.headers };
  if (opts.unsignedPayload) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const signer = new SignatureV4({ service: opts.service ?? 'ec2', region: opts.region ?? 'us-east-1', sha256: Sha256, credentials: key, applyChecksum: false });
  const signed = await signer.sign(
    { method: call.method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers, body: opts.unsignedPayload ? undefined : call.body },
    { signingDate: opts.date ?? new Date() },
  );
  return { ...call, headers: signed.headers as Record<string, string> };
}

export function send(call: SignedCall): Promise<Response> {
  const { host: _host, ...headers } = call.headers;
  return fetch(call.url, { method: call.method, headers, ...(call.body !== undefined ? { body: call.body } : {}) });
}
