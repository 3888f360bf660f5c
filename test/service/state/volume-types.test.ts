import { describe, expect, it } from 'vitest';
import { isCatalogError } from '../../../src/service/service-errors.js';
import { resolvePerformance, VOLUME_TYPES, VOLUME_TYPE_LIMITS, type PerformanceRequest } from '../../../src/service/state/volume-types.js';

function code(req: PerformanceRequest): string | undefined {
  try {
    resolvePerformance(req);
    return undefined;
  } catch (e) {
    if (isCatalogError(e)) return e.code;
    throw e;
  }
}

describe('volume types', () => {
  it('accepts each type at its size limits and refuses one GiB beyond', () => {
    for (const t of VOLUME_TYPES) {
      const { min, max } = VOLUME_TYPE_LIMITS[t].size;
      const iops = t === 'io1' || t === 'io2' ? 100 : undefined;
      expect(code({ volumeType: t, sizeGiB: min, iops }), `${t} ${min}`).toBeUndefined();
      expect(code({ volumeType: t, sizeGiB: max, iops }), `${t} ${max}`).toBeUndefined();
      expect(code({ volumeType: t, sizeGiB: max + 1, iops }), `${t} ${max + 1}`).toBe('INVALID_PARAMETER_VALUE');
      if (min > 1) expect(code({ volumeType: t, sizeGiB: min - 1, iops }), `${t} ${min - 1}`).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('fills defaults: gp2 IOPS from size, gp3 3,000 IOPS and 125 MiB/s', () => {
    expect(resolvePerformance({ volumeType: 'gp2', sizeGiB: 1 })).toMatchObject({ iops: 100 });
    expect(resolvePerformance({ volumeType: 'gp2', sizeGiB: 1000 })).toMatchObject({ iops: 3000 });
    expect(resolvePerformance({ volumeType: 'gp2', sizeGiB: 16384 })).toMatchObject({ iops: 16000 });
    expect(resolvePerformance({ volumeType: 'gp3', sizeGiB: 1 })).toMatchObject({ iops: 3000, throughput: 125 });
    expect(resolvePerformance({ volumeType: 'st1', sizeGiB: 500 })).toEqual({ volumeType: 'st1', sizeGiB: 500, iops: undefined, throughput: undefined, multiAttachEnabled: false });
  });

  it('checks IOPS ranges and per-GiB ratios', () => {
    expect(code({ volumeType: 'io1', sizeGiB: 100 })).toBe('MISSING_PARAMETER');
    expect(code({ volumeType: 'io1', sizeGiB: 100, iops: 5000 })).toBeUndefined(); // 50 per GiB
    expect(code({ volumeType: 'io1', sizeGiB: 100, iops: 5001 })).toBe('INVALID_PARAMETER_VALUE');
    expect(code({ volumeType: 'io2', sizeGiB: 256, iops: 256_000 })).toBeUndefined();
    expect(code({ volumeType: 'io2', sizeGiB: 256, iops: 256_001 })).toBe('INVALID_PARAMETER_VALUE');
    expect(code({ volumeType: 'gp3', sizeGiB: 8, iops: 4000 })).toBeUndefined(); // 500 per GiB
    expect(code({ volumeType: 'gp3', sizeGiB: 7, iops: 4000 })).toBe('INVALID_PARAMETER_VALUE');
    expect(code({ volumeType: 'gp3', sizeGiB: 1000, iops: 2999 })).toBe('INVALID_PARAMETER_VALUE');
    expect(code({ volumeType: 'gp2', sizeGiB: 100, iops: 300 })).toBe('INVALID_PARAMETER_COMBINATION');
  });

  it('checks throughput: gp3 only, 125 to 2,000 MiB/s, at most 0.25 MiB/s per IOPS', () => {
    expect(code({ volumeType: 'gp3', sizeGiB: 100, throughput: 750 })).toBeUndefined();
    expect(code({ volumeType: 'gp3', sizeGiB: 100, throughput: 751 })).toBe('INVALID_PARAMETER_VALUE');
    expect(code({ volumeType: 'gp3', sizeGiB: 100, iops: 8000, throughput: 2000 })).toBeUndefined();
    expect(code({ volumeType: 'gp3', sizeGiB: 100, iops: 16000, throughput: 2001 })).toBe('INVALID_PARAMETER_VALUE');
    expect(code({ volumeType: 'gp3', sizeGiB: 100, throughput: 124 })).toBe('INVALID_PARAMETER_VALUE');
    expect(code({ volumeType: 'io2', sizeGiB: 100, iops: 1000, throughput: 200 })).toBe('INVALID_PARAMETER_COMBINATION');
  });

  it('allows Multi-Attach only on io1 and io2', () => {
    expect(code({ volumeType: 'io2', sizeGiB: 10, iops: 100, multiAttachEnabled: true })).toBeUndefined();
    expect(code({ volumeType: 'gp3', sizeGiB: 10, multiAttachEnabled: true })).toBe('INVALID_PARAMETER_COMBINATION');
  });

  it('allows one pending snapshot on st1 and sc1, five elsewhere', () => {
    expect(VOLUME_TYPES.map((t) => [t, VOLUME_TYPE_LIMITS[t].concurrentSnapshots])).toEqual([
      ['standard', 5], ['io1', 5], ['io2', 5], ['gp2', 5], ['sc1', 1], ['st1', 1], ['gp3', 5],
    ]);
  });
});
