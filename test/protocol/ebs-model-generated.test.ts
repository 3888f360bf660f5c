/**
 * The checked-in EBS codec model equals what scripts/gen-ebs-model.ts makes from the installed
 * botocore, and every exception the model names has a status in our error table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EBS_GENERATED_FILE, generateEbsModel, loadBotocoreEbsModel } from '../../scripts/gen-ebs-model.js';
import { EBS_EXCEPTION_STATUS, EBS_OPERATIONS } from '../../src/protocol/ebs/model.generated.js';
import { EBS_EXCEPTIONS } from '../../src/protocol/ebs/protocol-errors.js';
import { botocoreUnavailable } from './helpers/botocore.js';

const checkedIn = readFileSync(EBS_GENERATED_FILE, 'utf8');
const recordedVersion = /from botocore (\S+) /.exec(checkedIn)?.[1];

function skipReason(): string | undefined {
  const missing = botocoreUnavailable();
  if (missing !== undefined) return missing;
  const { version } = loadBotocoreEbsModel();
  return version === recordedVersion ? undefined
    : `installed botocore ${version} differs from ${recordedVersion}, which generated the checked-in model: regenerate on purpose`;
}
const reason = skipReason();

describe('generated EBS model', () => {
  it.skipIf(reason !== undefined)(`matches a fresh generation from botocore${reason ? ` (skipped: ${reason})` : ''}`, () => {
    const { json, origin } = loadBotocoreEbsModel();
    expect(generateEbsModel(json, origin)).toBe(checkedIn);
  });

  it('has the six operations, and every exception they name is in the error table', () => {
    expect(Object.keys(EBS_OPERATIONS).sort()).toEqual(
      ['CompleteSnapshot', 'GetSnapshotBlock', 'ListChangedBlocks', 'ListSnapshotBlocks', 'PutSnapshotBlock', 'StartSnapshot'],
    );
    for (const name of Object.keys(EBS_EXCEPTION_STATUS)) expect(EBS_EXCEPTIONS, name).toHaveProperty(name);
  });
});
