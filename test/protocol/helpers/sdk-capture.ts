/**
 * An `@aws-sdk/client-ec2` client whose transport is a function: it records the signed HttpRequest
 * the SDK serialised and answers with the canned response the test chooses. No network.
 */
import * as sdk from '@aws-sdk/client-ec2';
import type { EC2ClientConfig } from '@aws-sdk/client-ec2';

export interface CapturedRequest {
  method: string;
  hostname: string;
  port: number | undefined;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body: string;
}

export interface CannedResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export const SDK_ACCESS_KEY = 'AKIDJSEXAMPLE';
export const SDK_SECRET_KEY = 'js/secret+key';

export function capturingClient(
  respond: (req: CapturedRequest) => CannedResponse,
  config: Partial<EC2ClientConfig> = {},
): { client: sdk.EC2Client; requests: CapturedRequest[] } {
  const requests: CapturedRequest[] = [];
  const requestHandler = {
    async handle(request: {
      method: string; hostname: string; port?: number; path: string; body?: unknown;
      query?: Record<string, string | string[] | null>; headers: Record<string, string>;
    }) {
      const body = typeof request.body === 'string' ? request.body
        : request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : '';
      const captured: CapturedRequest = {
        method: request.method, hostname: request.hostname, port: request.port, path: request.path,
        query: request.query ?? {}, headers: { ...request.headers }, body,
      };
      requests.push(captured);
      const canned = respond(captured);
      return { response: { statusCode: canned.status, headers: canned.headers ?? {}, body: Buffer.from(canned.body, 'utf8') } };
    },
  };
  const client = new sdk.EC2Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4598',
    credentials: { accessKeyId: SDK_ACCESS_KEY, secretAccessKey: SDK_SECRET_KEY },
    maxAttempts: 1,
    requestHandler: requestHandler as unknown as EC2ClientConfig['requestHandler'],
    ...config,
  });
  return { client, requests };
}

/** Sends `<action>Command` with the given input; the result without `$metadata`, plus the metadata. */
export async function sendAction(client: sdk.EC2Client, action: string, input: unknown): Promise<{ output: Record<string, unknown>; metadata: sdk.EC2ServiceException['$metadata'] }> {
  const Command = (sdk as unknown as Record<string, new (input: unknown) => Parameters<sdk.EC2Client['send']>[0]>)[`${action}Command`];
  if (Command === undefined) throw new Error(`the SDK has no ${action}Command`);
  const { $metadata, ...output } = (await client.send(new Command(input))) as { $metadata: sdk.EC2ServiceException['$metadata'] };
  return { output, metadata: $metadata };
}
