/**
 * EC2 Query request decoder: form parameters → `{ action, version, input }`, driven by the model.
 *
 * Wire rules (contract §2.2, smithy ec2Query): a member's parameter name is its queryName, else its
 * locationName with the first letter upper-cased, else its member name; structures add
 * `.<Name>`; every list is flattened as `<Name>.<i>` with a 1-based index, whatever its member's
 * own name; empty lists and absent members are not sent. The decoded input uses botocore member
 * names, so `Filter.2.Value.1=x` becomes `{ Filters: [, { Values: ['x'] }] }`.
 *
 * What is checked here: the action is served, every parameter belongs to the input shape,
 * integers/longs/doubles/booleans/timestamps parse, enum values are in the model's enum, and
 * required members are present. Everything semantic (id formats, ranges, combinations, filter
 * names) is left to the handlers.
 */
import { parseFormPairs } from './form-urlencoded.js';
import { EC2_MODEL } from './model.generated.js';
import { Ec2ProtocolError } from './protocol-errors.js';
import { queryWireName, shapeOf, type ServiceModel, type Shape, type StructureShape } from './shape-model.js';
import type { Ec2Action, Ec2Input } from './types.generated.js';

/** A decoded request; a union over actions, so `switch (req.action)` narrows `req.input`. */
export type Ec2Request = { [A in Ec2Action]: { action: A; version: string | undefined; input: Ec2Input[A] } }[Ec2Action];

/** The model-agnostic form of a decoded request (used with hand-written test models). */
export interface DecodedQuery {
  action: string;
  version: string | undefined;
  input: Record<string, unknown>;
}

export type QueryParams = string | URLSearchParams;

/** Decodes a request to one of the actions ebs-sim serves. Throws Ec2ProtocolError. */
export function decodeEc2Request(params: QueryParams): Ec2Request {
  return decodeQuery(EC2_MODEL, params) as Ec2Request;
}

/** Decodes against any model in the shape-model format. Throws Ec2ProtocolError. */
export function decodeQuery(model: ServiceModel, params: QueryParams): DecodedQuery {
  const pairs = typeof params === 'string' ? parseFormPairs(params) : [...params.entries()];
  const seen = new Set<string>();
  for (const [k] of pairs) {
    // Which of two values is meant is unknowable; real clients never repeat a key.
    if (seen.has(k)) throw new Ec2ProtocolError('MalformedQueryString', `The parameter ${k} appears more than once.`);
    seen.add(k);
  }
  const flat = new Map(pairs);
  const action = flat.get('Action');
  if (action === undefined || action === '') {
    throw new Ec2ProtocolError('MissingAction', 'The request must contain the parameter Action.');
  }
  const op = Object.hasOwn(model.operations, action) ? model.operations[action] : undefined;
  if (op === undefined) {
    const served = Object.keys(model.operations).sort().join(', ');
    throw new Ec2ProtocolError('InvalidAction', `The action ${action} is not valid for this web service. Served actions: ${served}.`);
  }
  // Every SDK sends Version; without it (or with another) the answer's shapes would be a guess.
  const version = flat.get('Version');
  if (version === undefined || version === '') throw new Ec2ProtocolError('MissingParameter', 'The request must contain the parameter Version.');
  if (version !== model.apiVersion) {
    throw new Ec2ProtocolError('NoSuchVersion', `The requested version (${version}) of this service does not exist: ebs-sim serves API version ${model.apiVersion}.`);
  }
  const root = buildTree(pairs.filter(([k]) => !isCommonParameter(k)));
  const inputShape: StructureShape = op.input === undefined ? { type: 'structure', members: {} } : structureOf(model, op.input);
  return { action, version: flat.get('Version'), input: decodeStructure(model, inputShape, root) };
}

function structureOf(model: ServiceModel, name: string): StructureShape {
  const shape = shapeOf(model, name);
  if (shape.type !== 'structure') throw new Error(`input shape ${name} is not a structure`);
  return shape;
}

/** The common parameters of the EC2 API reference (SigV2, SigV4 presigning, SecurityToken): not input members. */
function isCommonParameter(key: string): boolean {
  return key === 'Action' || key === 'Version' || key === 'AWSAccessKeyId' || key === 'Timestamp'
    || key === 'Expires' || key === 'SecurityToken' || key.startsWith('Signature') || /^x-amz-/i.test(key);
}

/** One dotted path segment: `Filter.1.Value.2` is Filter → 1 → Value → 2. */
interface ParamNode {
  /** The full parameter name up to here, for messages. */
  readonly path: string;
  value?: string;
  children?: Map<string, ParamNode>;
  used?: boolean;
}

function buildTree(pairs: Array<[string, string]>): ParamNode {
  const root: ParamNode = { path: '' };
  for (const [k, v] of pairs) {
    let node = root;
    for (const segment of k.split('.')) {
      node.children ??= new Map();
      let child = node.children.get(segment);
      if (child === undefined) {
        child = { path: node.path === '' ? segment : `${node.path}.${segment}` };
        node.children.set(segment, child);
      }
      node = child;
    }
    node.value = v;
  }
  return root;
}

function decodeShape(model: ServiceModel, shape: Shape, node: ParamNode): unknown {
  switch (shape.type) {
    case 'structure':
      if (node.value !== undefined) throw unknownParameter(node.path); // `Placement=x` for a structure
      return decodeStructure(model, shape, node);
    case 'list':
      return decodeList(model, shape.member.shape, node);
    default:
      if (node.children !== undefined) throw unknownParameter(firstLeaf(node.children.values().next().value!).path); // `Size.1=x`
      return decodeScalar(shape, node.value ?? '', node.path);
  }
}

/**
 * Where EC2's own MissingParameter message names a list by its XML name, not its wire name:
 * CreateTags and DeleteTags without resources say `resourceIdSet` (AWS's docs examples show it).
 */
const EC2_MISSING_NAMES: Record<string, string> = { ResourceId: 'resourceIdSet' };

function decodeStructure(model: ServiceModel, shape: StructureShape, node: ParamNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [memberName, member] of Object.entries(shape.members)) {
    const child = node.children?.get(queryWireName(memberName, member));
    if (child === undefined) continue;
    child.used = true;
    out[memberName] = decodeShape(model, shapeOf(model, member.shape), child);
  }
  rejectLeftovers(node);
  for (const memberName of shape.required ?? []) {
    if (out[memberName] === undefined) {
      const member = shape.members[memberName];
      const wire = member === undefined ? memberName : queryWireName(memberName, member);
      const name = node.path === '' ? (EC2_MISSING_NAMES[wire] ?? wire) : `${node.path}.${wire}`;
      throw new Ec2ProtocolError('MissingParameter', `The request must contain the parameter ${name}`);
    }
  }
  return out;
}

/**
 * Indexes are positive decimal integers, taken in numeric order; gaps are closed (`VolumeId.1`,
 * `VolumeId.3` → two ids). The SDKs never leave gaps, and a hand-built query that does is still
 * unambiguous, so rejecting it would only be unfriendly.
 */
function decodeList(model: ServiceModel, memberShape: string, node: ParamNode): unknown[] {
  if (node.value !== undefined) throw unknownParameter(node.path); // `VolumeId=x` instead of `VolumeId.1=x`
  const items: Array<[number, ParamNode]> = [];
  for (const [segment, child] of node.children ?? []) {
    if (!/^[1-9]\d{0,8}$/.test(segment)) throw unknownParameter(firstLeaf(child).path);
    items.push([Number(segment), child]);
  }
  items.sort((a, b) => a[0] - b[0]);
  const shape = shapeOf(model, memberShape);
  return items.map(([, child]) => decodeShape(model, shape, child));
}

function rejectLeftovers(node: ParamNode): void {
  for (const child of node.children?.values() ?? []) {
    if (child.used !== true) throw unknownParameter(firstLeaf(child).path);
  }
}

/** The first complete parameter name under a node (the node itself if it carries a value). */
function firstLeaf(node: ParamNode): ParamNode {
  let n = node;
  while (n.value === undefined && n.children !== undefined) {
    const next = n.children.values().next();
    if (next.done === true) break;
    n = next.value;
  }
  return n;
}

function unknownParameter(name: string): Ec2ProtocolError {
  return new Ec2ProtocolError('UnknownParameter', `The parameter ${name} is not recognized`);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
// RFC 3339 date-time: what botocore (`…05Z`, `…05.678000Z`) and JS v3 (`…05.678Z`) send.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function decodeScalar(shape: Shape, value: string, name: string): unknown {
  const invalid = (expected: string): Ec2ProtocolError =>
    new Ec2ProtocolError('InvalidParameterValue', `Value (${value}) for parameter ${name} is invalid. Expected: ${expected}.`);
  switch (shape.type) {
    case 'integer':
    case 'long': {
      const n = /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
      const ok = shape.type === 'integer' ? n >= INT32_MIN && n <= INT32_MAX : Number.isSafeInteger(n);
      if (!ok) throw invalid(shape.type === 'integer' ? 'a 32-bit integer' : 'a 64-bit integer');
      return n;
    }
    case 'double':
    case 'float': {
      const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? Number(value) : NaN;
      if (!Number.isFinite(n)) throw invalid('a number');
      return n;
    }
    case 'boolean': {
      // Case-insensitive: the SDKs send lower case, hand-written queries sometimes do not.
      const lower = value.toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw invalid("'true' or 'false'");
      return lower === 'true';
    }
    case 'timestamp': {
      const t = ISO_8601.test(value) ? new Date(value) : undefined;
      if (t === undefined || Number.isNaN(t.getTime())) throw invalid('an ISO 8601 timestamp such as 2026-11-26T22:31:44Z');
      return t;
    }
    case 'string':
      if (shape.enum !== undefined && !shape.enum.includes(value)) {
        // The full InstanceType list is ~1,200 values: too long for a message.
        const valid = shape.enum.length <= 30 ? ` Valid values: ${shape.enum.join(', ')}.` : '';
        throw new Ec2ProtocolError('InvalidParameterValue', `Value (${value}) for parameter ${name} is invalid.${valid}`);
      }
      return value;
    default:
      throw new Error(`unsupported shape type ${shape.type}`);
  }
}
