/**
 * One home per error vocabulary: EC2's codes appear only in the EC2 error tables, SigV4's only in
 * its own, and every code of every table (EC2, SigV4, data plane) is documented in docs/server.md.
 * A code passed to its table's error class (`new Ec2ProtocolError('MissingAction', …)`) is a key
 * the compiler checks against that table, so it is not a second home.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EC2_ERROR_MAP, OBJECT_STORE_ERROR_MAP } from '../../src/protocol/ec2/error-map.js';
import { PROTOCOL_ERROR_STATUS } from '../../src/protocol/ec2/protocol-errors.js';
import { AUTH_ERROR_STATUS } from '../../src/protocol/sigv4/auth-errors.js';
import { DATA_PLANE_OWN_CODES, DATA_PLANE_STATUS } from '../../src/server/data-plane-errors.js';
import { EBS_DIRECT_ERROR_MAP, EBS_SHARED_ERROR_MAP } from '../../src/protocol/ebs/error-map.js';
import { EBS_EXCEPTIONS } from '../../src/protocol/ebs/protocol-errors.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const DOCS = readFileSync(fileURLToPath(new URL('../../docs/server.md', import.meta.url)), 'utf8');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') && !name.endsWith('.generated.ts') ? [path] : [];
  });
}

const EC2_CODES = new Set([
  ...Object.values(EC2_ERROR_MAP).map((t) => t.ec2Code),
  ...Object.values(OBJECT_STORE_ERROR_MAP).map((t) => t.ec2Code),
  ...Object.keys(PROTOCOL_ERROR_STATUS),
]);
const AUTH_CODES = new Set(Object.keys(AUTH_ERROR_STATUS));
const EBS_TARGETS = [...Object.values(EBS_DIRECT_ERROR_MAP), ...Object.values(EBS_SHARED_ERROR_MAP)];
const EBS_CODES = new Set(Object.keys(EBS_EXCEPTIONS));
const EBS_REASONS = new Set(EBS_TARGETS.flatMap((t) => (t?.reason ? [t.reason] : [])));

/** Quoted string literals equal to one of `codes` in the files outside `homes`, unless given to `errorClass`. */
function strays(codes: Set<string>, homes: string[], errorClass: string): string[] {
  const out: string[] = [];
  for (const f of files(SRC)) {
    const rel = relative(SRC, f);
    if (homes.includes(rel)) continue;
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(['"])([A-Za-z.]+)\1/g)) {
      if (!codes.has(m[2]!)) continue;
      if (text.slice(Math.max(0, m.index - errorClass.length - 5), m.index).includes(`new ${errorClass}(`)) continue;
      out.push(`${rel}: ${m[0]}`);
    }
  }
  return out;
}

describe('error codes', () => {
  it('EC2 codes are spelled only in the EC2 error tables', () => {
    expect(EC2_CODES.size).toBeGreaterThan(30);
    expect(strays(EC2_CODES, ['protocol/ec2/error-map.ts', 'protocol/ec2/protocol-errors.ts'], 'Ec2ProtocolError')).toEqual([]);
  });

  it('SigV4 codes are spelled only in its table', () => {
    expect(strays(AUTH_CODES, ['protocol/sigv4/auth-errors.ts'], 'AuthError')).toEqual([]);
  });

  it('EBS exception names are spelled only in the EBS error tables', () => {
    expect(EBS_CODES.size).toBeGreaterThan(10);
    const homes = ['protocol/ebs/error-map.ts', 'protocol/ebs/protocol-errors.ts', 'protocol/ebs/model.generated.ts'];
    expect(strays(EBS_CODES, homes, 'EbsProtocolError')).toEqual([]);
  });

  it('every code of every table is in docs/server.md', () => {
    const documented = (code: string) => new RegExp(`\`${code.replace('.', '\\.')}\``).test(DOCS);
    const codes = [...EC2_CODES, ...AUTH_CODES, ...Object.keys(DATA_PLANE_STATUS), ...DATA_PLANE_OWN_CODES, ...EBS_CODES, ...EBS_REASONS];
    expect(codes.filter((c) => !documented(c))).toEqual([]);
  });
});
