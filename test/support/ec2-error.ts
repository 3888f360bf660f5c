import type { EC2ServiceException } from '@aws-sdk/client-ec2';

/** The error a call rejects with (the test fails if it resolves). */
export async function ec2Error(call: Promise<unknown>): Promise<EC2ServiceException> {
  try {
    await call;
  } catch (err) {
    return err as EC2ServiceException;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** POSTs a raw EC2 Query body, as a hand-rolled client (curl) would. */
export async function rawEc2(endpoint: string, body: string, init: RequestInit = {}): Promise<{ status: number; text: string; requestId: string | null }> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    ...init,
  });
  return { status: res.status, text: await res.text(), requestId: res.headers.get('x-amzn-requestid') };
}

export function xmlCode(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}
