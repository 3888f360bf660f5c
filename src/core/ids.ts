import { randomBytes } from 'node:crypto';

/** EC2-style ids: a prefix and 17 hex digits. */
const newId = (prefix: string) => `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;

export const newVolumeId = () => newId('vol');
export const newSnapshotId = () => newId('snap');
