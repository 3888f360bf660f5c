import { describe, expect, it } from 'vitest';
import { ERRNO_BY_CODE, errnoFor } from '../../src/nbd/errno-map.js';

const err = (code?: unknown) => Object.assign(new Error('x'), code === undefined ? {} : { code });

describe('device error -> NBD errno', () => {
  it('maps out-of-range by direction: EINVAL for reads, ENOSPC for writes', () => {
    expect(errnoFor(err('OFFSET_OUT_OF_RANGE'), 'read')).toBe(22);
    expect(errnoFor(err('OFFSET_OUT_OF_RANGE'), 'write')).toBe(28);
  });

  it('maps wrong state and read-only to EPERM, host quota errors to ENOSPC', () => {
    expect(errnoFor(err('VOLUME_WRONG_STATE'), 'write')).toBe(1);
    expect(errnoFor(err('READ_ONLY'), 'write')).toBe(1);
    expect(errnoFor(err('EROFS'), 'write')).toBe(1);
    expect(errnoFor(err('EDQUOT'), 'write')).toBe(28);
  });

  it('tells the client to disconnect when the store is closing (ESHUTDOWN)', () => {
    expect(errnoFor(err('STORE_CLOSED'), 'read')).toBe(108);
  });

  it('falls back to EIO for anything else, including non-errors and inherited keys', () => {
    expect(errnoFor(err('SOMETHING_NEW'), 'read')).toBe(5);
    expect(errnoFor(err(), 'read')).toBe(5);
    expect(errnoFor(err(42), 'read')).toBe(5);
    expect(errnoFor('boom', 'read')).toBe(5);
    expect(errnoFor(undefined, 'read')).toBe(5);
    expect(errnoFor(err('toString'), 'read')).toBe(5);
  });

  it('only uses error values the protocol defines', () => {
    const allowed = new Set([1, 5, 12, 22, 28, 75, 95, 108]);
    for (const m of Object.values(ERRNO_BY_CODE)) {
      for (const v of typeof m === 'number' ? [m] : [m.read, m.write]) expect(allowed.has(v)).toBe(true);
    }
  });
});
