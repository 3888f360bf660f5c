/** The labs, by name: four lessons in what a snapshot holds, each a script the console and `ebs-sim lab` run. */
import { incrementalLab } from './incremental.js';
import type { Lab } from './lab.js';
import { multiVolumeLab } from './multi-volume.js';
import { pageCacheLab } from './page-cache.js';
import { pendingLab } from './pending.js';

export const LABS: readonly Lab[] = [pageCacheLab, pendingLab, multiVolumeLab, incrementalLab];

export function labNamed(name: string): Lab | undefined {
  return LABS.find((l) => l.name === name);
}

export { LabRun, type Lab, type LabLine, type StepOutcome } from './lab.js';
export type { LabCredentials } from './lab-signer.js';
