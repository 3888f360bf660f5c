import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';

/** Whether this directory's file system opens files with O_DIRECT (tmpfs before Linux 6.6 did not). */
export function takesDirect(dir: string): boolean {
  try {
    closeSync(openSync(join(dir, 'direct-probe'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT, 0o666));
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'EINVAL') return false;
    throw err;
  }
}
