import { describe, expect, it } from 'vitest';
import { chooseS3Credentials } from '../../src/object-store/index.js';

const nothingOnDisk = (): boolean => false;
const endpoint = 'http://127.0.0.1:9000';

describe('chooseS3Credentials', () => {
  it('uses explicit credentials whatever the environment says', () => {
    const credentials = { accessKeyId: 'AK', secretAccessKey: 'SK' };
    expect(chooseS3Credentials({ credentials, endpoint }, { AWS_ACCESS_KEY_ID: 'x' }, nothingOnDisk)).toBe(credentials);
  });

  it('falls back to static test keys for a custom endpoint when nothing is configured', () => {
    expect(chooseS3Credentials({ endpoint }, { HOME: '/nowhere' }, nothingOnDisk)).toEqual({
      accessKeyId: 'test',
      secretAccessKey: 'test',
    });
  });

  it('leaves real AWS (no endpoint) to the SDK chain', () => {
    expect(chooseS3Credentials({}, { HOME: '/nowhere' }, nothingOnDisk)).toBeUndefined();
  });

  it('leaves a custom endpoint to the SDK chain when the environment configures credentials', () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) {
      expect(chooseS3Credentials({ endpoint }, { HOME: '/nowhere', [name]: 'set' }, nothingOnDisk)).toBeUndefined();
    }
    const credentialsFile = (path: string): boolean => path === '/home/u/.aws/credentials';
    expect(chooseS3Credentials({ endpoint }, { HOME: '/home/u' }, credentialsFile)).toBeUndefined();
    const configFile = (path: string): boolean => path === '/etc/aws-config';
    expect(chooseS3Credentials({ endpoint }, { HOME: '/home/u', AWS_CONFIG_FILE: '/etc/aws-config' }, configFile)).toBeUndefined();
  });
});
