/**
 * The checked-in generated files equal what scripts/gen-ec2-model.ts makes from the installed
 * botocore (fastify's validator-integrity idea), and the model is internally consistent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, generateEc2Model, loadBotocoreEc2Model, SERVED_ACTIONS } from '../../scripts/gen-ec2-model.js';
import { EC2_ACTIONS, EC2_MODEL, type Ec2Action } from '../../src/protocol/ec2/index.js';
import { botocoreUnavailable } from './helpers/botocore.js';

const checkedIn = (name: string) => readFileSync(join(GENERATED_DIR, name), 'utf8');
const recordedVersion = /from botocore (\S+) /.exec(checkedIn('model.generated.ts'))?.[1];

function skipReason(): string | undefined {
  const missing = botocoreUnavailable();
  if (missing !== undefined) return missing;
  const { version } = loadBotocoreEc2Model();
  return version === recordedVersion ? undefined
    : `installed botocore ${version} differs from ${recordedVersion}, which generated the checked-in model: regenerate on purpose`;
}
const reason = skipReason();

describe('generated model', () => {
  it.skipIf(reason !== undefined)(`matches a fresh generation from botocore${reason ? ` (skipped: ${reason})` : ''}`, () => {
    const { json, origin } = loadBotocoreEc2Model();
    const fresh = generateEc2Model(json, origin);
    expect(fresh.model).toBe(checkedIn('model.generated.ts'));
    expect(fresh.types).toBe(checkedIn('types.generated.ts'));
  });

  it('serves exactly the actions of the generator, and the types name the same ones', () => {
    const typed: readonly Ec2Action[] = EC2_ACTIONS; // compile-time: every listed action is typed
    expect([...typed].sort()).toEqual([...SERVED_ACTIONS].sort());
    expect(Object.keys(EC2_MODEL.operations).sort()).toEqual([...SERVED_ACTIONS].sort());
  });

  it('has no dangling shape references and only supported types', () => {
    const refs: string[] = [];
    for (const op of Object.values(EC2_MODEL.operations)) refs.push(...[op.input, op.output].filter((s): s is string => s !== undefined));
    for (const shape of Object.values(EC2_MODEL.shapes)) {
      if (shape.type === 'structure') {
        refs.push(...Object.values(shape.members).map((m) => m.shape));
        for (const r of shape.required ?? []) expect(shape.members).toHaveProperty(r);
      }
      if (shape.type === 'list') refs.push(shape.member.shape);
      expect(['structure', 'list', 'string', 'integer', 'long', 'boolean', 'timestamp', 'double', 'float']).toContain(shape.type);
    }
    for (const r of refs) expect(EC2_MODEL.shapes, r).toHaveProperty(r);
  });

  it('keeps the EC2 names the contract lists (§2.2, §2.3)', () => {
    const s = EC2_MODEL.shapes;
    expect(s.DescribeSnapshotsRequest).toMatchObject({ members: { OwnerIds: { locationName: 'Owner' }, Filters: { locationName: 'Filter' } } });
    expect(s.Volume).toMatchObject({ members: { State: { locationName: 'status' }, Attachments: { locationName: 'attachmentSet' } } });
    expect(s.InstanceNetworkInterfaceSpecification).toMatchObject({ members: { PrivateIpAddresses: { queryName: 'PrivateIpAddresses' } } });
    expect(s.TagList).toEqual({ type: 'list', member: { shape: 'Tag', locationName: 'item' } });
  });
});
