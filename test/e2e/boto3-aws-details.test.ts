/** AWS details that real client code trips on, checked through boto3 against `ebs-sim serve`. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { botocoreUnavailable } from '../protocol/helpers/botocore.js';
import { startCliServer, type CliServer } from '../support/cli-server.js';
import { runPythonScript } from './python-script.js';

const unavailable = botocoreUnavailable();

let server: CliServer;
beforeAll(async () => {
  if (!unavailable) server = await startCliServer();
});
afterAll(async () => {
  if (server) expect((await server.stop()).code).toBe(0);
});

it.skipIf(unavailable !== undefined)('legacy ids, omitted tagSets, tag-value, EC2 wording for missing parameters', async () => {
  const out = await runPythonScript('boto3_aws_details.py', [server.endpoint]);
  expect(out.legacy).toMatchObject({
    volume: ['InvalidVolume.NotFound', expect.stringContaining('vol-abcd1234')],
    snapshot: ['InvalidSnapshot.NotFound', expect.any(String)],
    instance: ['InvalidInstanceID.NotFound', expect.any(String)],
    malformed: ['InvalidVolumeID.Malformed', expect.any(String)],
  });
  expect(out.tags).toEqual({
    createVolumeHasTags: false,
    volume: null,
    taggedVolume: [{ Key: 'team', Value: 'storage' }],
    snapshot: [],
    snapshotDescribeHasTags: true,
    instance: null,
  });
  expect(out.tagValue.volumes).toEqual([out.ids.taggedVolume]);
  expect(out.tagValue.snapshots).toEqual([out.ids.snapshot]);
  expect(out.tagValue.bogus[0]).toBe('InvalidParameterValue');
  expect(out.missing.createTags).toEqual(['MissingParameter', 'The request must contain the parameter resourceIdSet']);
  expect(out.missing.attachVolume).toEqual(['InvalidInstanceID.Malformed', 'Invalid id: "" (expecting "i-...")']);
  expect(out.missing.createVolume).toEqual(['MissingParameter', 'The request must contain the parameter AvailabilityZone']);
  expect(out.missing.iops).toEqual(['MissingParameter', 'The request must contain the parameter Iops']);
  expect(out.missing.mappingDevice).toEqual(['MissingParameter', 'The request must contain the parameter BlockDeviceMapping.1.DeviceName']);
  expect(out.missing.operationType).toEqual(['MissingParameter', 'The request must contain the parameter OperationType']);
  expect(out.missing.sourceRegion).toEqual(['InvalidParameterValue', expect.stringMatching(/^Value \(nowhere\) for parameter SourceRegion is invalid\./)]);
});
