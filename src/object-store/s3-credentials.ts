/**
 * Which credentials an S3Store uses. Order:
 * 1. `credentials` given explicitly;
 * 2. the SDK's default chain (env keys, profiles, SSO, web identity, containers, EC2 role) when
 *    the environment configures any of it, or when no custom endpoint is set (real AWS);
 * 3. otherwise, for a custom endpoint with nothing configured, static `test`/`test` keys, which
 *    local servers (moto, MinIO started with those keys, LocalStack) accept. Asking the chain
 *    first is not an option there: it ends with the EC2 metadata service, which takes about a
 *    second to time out off EC2, on every store opened.
 * Limitation: on EC2, a custom endpoint with only an instance role needs AWS_* variables or a
 * profile, since the role alone is not visible in the environment.
 */

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const LOCAL_TEST_CREDENTIALS: Readonly<S3Credentials> = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Returns the credentials to pass to S3Client, or undefined to let the SDK chain decide. */
export function chooseS3Credentials(
  options: { credentials?: S3Credentials; endpoint?: string },
  env: NodeJS.ProcessEnv = process.env,
  fileExists: (path: string) => boolean = existsSync,
): S3Credentials | undefined {
  if (options.credentials !== undefined) return options.credentials;
  if (options.endpoint === undefined || environmentConfiguresCredentials(env, fileExists)) return undefined;
  return { ...LOCAL_TEST_CREDENTIALS };
}

function environmentConfiguresCredentials(env: NodeJS.ProcessEnv, fileExists: (path: string) => boolean): boolean {
  const vars = [
    'AWS_ACCESS_KEY_ID',
    'AWS_PROFILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ];
  if (vars.some((name) => (env[name] ?? '') !== '')) return true;
  const home = env.HOME ?? homedir();
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'),
    env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'),
  ];
  return files.some((path) => fileExists(path));
}
