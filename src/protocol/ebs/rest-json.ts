/**
 * The EBS direct APIs' rest-json codec, driven by the generated botocore model: a request's URI
 * labels, query string, headers and JSON body (or raw payload) become one input object, checked
 * against the model's types and constraints; an output object becomes headers, a JSON body (or
 * the raw payload) and the operation's success status. Timestamps are epoch seconds.
 */
import { EbsProtocolError } from './protocol-errors.js';
import type { EbsMemberModel, EbsOperationModel } from './model-types.js';
import { EBS_OPERATIONS } from './model.generated.js';

export type EbsOperation = keyof typeof EBS_OPERATIONS;

export interface EbsHttpRequest {
  params: Record<string, string | undefined>;
  query: Record<string, string | string[] | undefined>;
  /** Lower-cased names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body: JSON text for body members, the bytes for a payload member. */
  body: Buffer | undefined;
}

export interface EbsHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/**
 * Range minimums that AWS treats as a floor rather than an error: "MaxResults below 100 still
 * returns up to 100" (the contract); the service applies it.
 */
const FLOORED = new Set(['MaxResults']);

export function operationModel(op: EbsOperation): EbsOperationModel {
  return EBS_OPERATIONS[op];
}

export function decodeEbsRequest(op: EbsOperation, req: EbsHttpRequest): Record<string, unknown> {
  const model = operationModel(op);
  const out: Record<string, unknown> = {};
  let json: Record<string, unknown> | undefined;
  for (const m of model.input) {
    let raw: unknown;
    switch (m.location) {
      case 'uri':
        raw = req.params[m.wire];
        break;
      case 'querystring': {
        const v = req.query[m.wire];
        if (Array.isArray(v)) throw invalid(`The query parameter ${m.wire} appears more than once.`);
        raw = v;
        break;
      }
      case 'header': {
        const v = req.headers[m.wire.toLowerCase()];
        raw = Array.isArray(v) ? v.join(',') : v;
        break;
      }
      case 'payload':
        raw = req.body;
        break;
      case 'body':
        json ??= parseJsonBody(req.body);
        raw = json[m.wire];
        break;
    }
    if (raw === undefined || raw === null) {
      if (m.required) throw invalid(`${m.wire} is required.`);
      continue;
    }
    out[m.name] = m.location === 'body' ? checkJson(m, raw, m.wire) : m.location === 'payload' ? raw : checkText(m, String(raw));
  }
  return out;
}

/** A JSON body member: the type JSON carries, then the model's constraints. */
function checkJson(m: EbsMemberModel, v: unknown, path: string): unknown {
  switch (m.type) {
    case 'string':
      if (typeof v !== 'string') throw invalid(`${path} must be a string.`);
      return checkString(m, v, path);
    case 'integer':
    case 'long':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(`${path} must be an integer.`);
      return checkNumber(m, v, path);
    case 'boolean':
      if (typeof v !== 'boolean') throw invalid(`${path} must be true or false.`);
      return v;
    case 'list': {
      if (!Array.isArray(v)) throw invalid(`${path} must be a list.`);
      return v.map((item, i) => {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) throw invalid(`${path}[${i}] must be an object.`);
        const o: Record<string, unknown> = {};
        for (const im of m.items ?? []) {
          const x = (item as Record<string, unknown>)[im.wire];
          if (x !== undefined && x !== null) o[im.name] = checkJson(im, x, `${path}[${i}].${im.wire}`);
          else if (im.required) throw invalid(`${path}[${i}].${im.wire} is required.`);
        }
        return o;
      });
    }
    default:
      throw new Error(`unsupported body member type ${m.type}`);
  }
}

/** A member that travels as text (URI label, query string, header). */
function checkText(m: EbsMemberModel, v: string, ): unknown {
  switch (m.type) {
    case 'string':
      return checkString(m, v, m.wire);
    case 'integer':
    case 'long': {
      const n = /^-?\d{1,16}$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n)) throw invalid(`${m.wire} must be an integer, got '${v.slice(0, 40)}'.`);
      return checkNumber(m, n, m.wire);
    }
    case 'boolean':
      if (v !== 'true' && v !== 'false') throw invalid(`${m.wire} must be true or false.`);
      return v === 'true';
    default:
      throw new Error(`unsupported text member type ${m.type}`);
  }
}

function checkString(m: EbsMemberModel, v: string, path: string): string {
  const length = [...v].length;
  if (m.min !== undefined && length < m.min) throw invalid(`${path} must be at least ${m.min} characters long.`);
  if (m.max !== undefined && length > m.max) throw invalid(`${path} must be at most ${m.max} characters long.`);
  if (m.pattern !== undefined && !new RegExp(m.pattern).test(v)) {
    throw invalid(`${path} '${v.slice(0, 64)}' does not match ${m.pattern}.`, MALFORMED_REASON[m.name]);
  }
  if (m.enum !== undefined && !m.enum.includes(v)) throw invalid(`${path} must be one of ${m.enum.join(', ')}, got '${v.slice(0, 40)}'.`);
  return v;
}

function checkNumber(m: EbsMemberModel, n: number, path: string): number {
  if (m.min !== undefined && n < m.min && !FLOORED.has(m.name)) throw invalid(`${path} must be at least ${m.min}, got ${n}.`);
  if (m.max !== undefined && n > m.max) throw invalid(`${path} must be at most ${m.max}, got ${n}.`);
  return n;
}

function parseJsonBody(body: Buffer | undefined): Record<string, unknown> {
  if (body === undefined || body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

const invalid = (message: string, reason = 'INVALID_PARAMETER_VALUE') => new EbsProtocolError('ValidationException', message, reason);

/** Members whose malformed value has a Reason of its own (the model's ValidationExceptionReason). */
const MALFORMED_REASON: Partial<Record<string, string>> = {
  SnapshotId: 'INVALID_SNAPSHOT_ID',
  FirstSnapshotId: 'INVALID_SNAPSHOT_ID',
  SecondSnapshotId: 'INVALID_SNAPSHOT_ID',
  ParentSnapshotId: 'INVALID_SNAPSHOT_ID',
  BlockToken: 'INVALID_BLOCK_TOKEN',
  NextToken: 'INVALID_PAGE_TOKEN',
};

/** Turns an operation's output into its HTTP answer, as the model places each member. */
export function encodeEbsResponse(op: EbsOperation, output: Record<string, unknown>): EbsHttpResponse {
  const model = operationModel(op);
  const headers: Record<string, string> = {};
  const json: Record<string, unknown> = {};
  let payload: Buffer | undefined;
  checkMembers(op, model.output, output);
  for (const m of model.output) {
    const v = output[m.name];
    if (v === undefined || v === null) continue;
    if (m.location === 'header') headers[m.wire] = String(v);
    else if (m.location === 'payload') payload = v as Buffer;
    else json[m.wire] = m.type === 'timestamp' ? epochSeconds(v as Date) : m.type === 'list' ? (v as unknown[]).map((item) => renameItem(m, item)) : v;
  }
  if (payload !== undefined) return { status: model.successCode, headers: { ...headers, 'content-type': 'application/octet-stream' }, body: payload };
  return { status: model.successCode, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(json) };
}

/** An output member the model lacks is a bug of ours, not something to drop silently. */
function checkMembers(where: string, members: readonly EbsMemberModel[], value: Record<string, unknown>): void {
  for (const key of Object.keys(value)) {
    if (!members.some((m) => m.name === key)) throw new Error(`${where} has no output member ${key}`);
  }
}

function renameItem(m: EbsMemberModel, item: unknown): Record<string, unknown> {
  checkMembers(m.name, m.items ?? [], item as Record<string, unknown>);
  const o: Record<string, unknown> = {};
  for (const im of m.items ?? []) {
    const v = (item as Record<string, unknown>)[im.name];
    if (v !== undefined) o[im.wire] = v;
  }
  return o;
}

/** rest-json timestamps: epoch seconds, with milliseconds as a fraction. */
function epochSeconds(d: Date): number {
  return d.getTime() / 1000;
}
