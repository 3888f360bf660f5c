/**
 * EC2 Query response encoder: typed output → XML, driven by the model (contract §2.3–2.5).
 *
 * `<{Action}Response xmlns=…>` with `<requestId>` first and the output members directly under the
 * root (no `<Result>` wrapper: that is the plain Query protocol); each member as its locationName;
 * every list as `<name><item>…</item></name>`, an empty list as `<name/>`; members that are
 * `undefined` or `null` are omitted, and object keys the shape does not name are ignored (so a
 * handler may pass a richer record). Booleans are `true`/`false`, timestamps `Date` objects sent as
 * ISO 8601 UTC with milliseconds. A wrongly typed value is a handler bug: it throws a TypeError,
 * which the server should answer as a 500 InternalError.
 */
import { EC2_MODEL } from './model.generated.js';
import { shapeOf, xmlElementName, type ServiceModel, type Shape, type StructureShape } from './shape-model.js';
import type { Ec2Action, Ec2Output } from './types.generated.js';

/** The one namespace every EC2 response carries (with the trailing slash real EC2 sends). */
export const EC2_XML_NAMESPACE = EC2_MODEL.xmlNamespace;
export const EC2_XML_CONTENT_TYPE = 'text/xml;charset=UTF-8';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Encodes a successful response of a served action. */
export function encodeResponse<A extends Ec2Action>(action: A, output: Ec2Output[A], requestId: string): string {
  return encodeResponseWithModel(EC2_MODEL, action, output as unknown as Record<string, unknown>, requestId);
}

/** Encodes a successful response against any model in the shape-model format. */
export function encodeResponseWithModel(
  model: ServiceModel, action: string, output: Record<string, unknown>, requestId: string,
): string {
  const op = Object.hasOwn(model.operations, action) ? model.operations[action] : undefined;
  if (op === undefined) throw new TypeError(`cannot encode a response for unknown action ${action}`);
  const root = `${action}Response`;
  let body: string;
  if (op.output === undefined) {
    // Operations with no modelled output: real EC2 still says <return>true</return> (contract §2.3 rule 11).
    body = '<return>true</return>';
  } else {
    const shape = shapeOf(model, op.output);
    if (shape.type !== 'structure') throw new Error(`output shape ${op.output} is not a structure`);
    body = encodeMembers(model, shape, output, op.output);
  }
  return `${XML_DECLARATION}<${root} xmlns="${escapeXml(model.xmlNamespace)}"><requestId>${escapeXml(requestId)}</requestId>${body}</${root}>`;
}

/** The EC2 error envelope; `RequestID` is capitalised here, unlike the success `requestId`. */
export function encodeError(code: string, message: string, requestId: string): string {
  return `${XML_DECLARATION}<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`;
}

function encodeMembers(model: ServiceModel, shape: StructureShape, value: unknown, path: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) {
    throw new TypeError(`${path}: expected an object, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  let xml = '';
  for (const [memberName, member] of Object.entries(shape.members)) {
    const v = Object.hasOwn(record, memberName) ? record[memberName] : undefined;
    if (v === undefined || v === null) continue;
    const tag = xmlElementName(memberName, member);
    xml += encodeElement(model, tag, shapeOf(model, member.shape), v, `${path}.${memberName}`);
  }
  return xml;
}

function encodeElement(model: ServiceModel, tag: string, shape: Shape, value: unknown, path: string): string {
  if (shape.type === 'list') {
    if (!Array.isArray(value)) throw new TypeError(`${path}: expected an array, got ${describe(value)}`);
    if (value.length === 0) return `<${tag}/>`;
    const itemTag = shape.member.locationName ?? 'member';
    const itemShape = shapeOf(model, shape.member.shape);
    const items = value.map((item, i) => encodeElement(model, itemTag, itemShape, item, `${path}[${i}]`));
    return `<${tag}>${items.join('')}</${tag}>`;
  }
  const inner = shape.type === 'structure' ? encodeMembers(model, shape, value, path) : encodeScalar(shape, value, path);
  return inner === '' ? `<${tag}/>` : `<${tag}>${inner}</${tag}>`;
}

function encodeScalar(shape: Shape, value: unknown, path: string): string {
  switch (shape.type) {
    case 'string':
      if (typeof value !== 'string') break;
      return escapeXml(value);
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) break;
      return String(value);
    case 'double':
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) break;
      return String(value);
    case 'boolean':
      if (typeof value !== 'boolean') break;
      return value ? 'true' : 'false';
    case 'timestamp':
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) break;
      return value.toISOString(); // 2026-11-26T22:31:44.000Z: RFC 3339, as JS v3 requires
    default:
      break;
  }
  const expected = shape.type === 'timestamp' ? 'a valid Date' : `a ${shape.type}`;
  throw new TypeError(`${path}: expected ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40) ?? ''}`.trim();
}

// Characters XML 1.0 cannot carry at all; dropping them keeps the document parseable.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const NEEDS_ESCAPE = /[&<>\r\u0000-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** Escapes text for element content; `\r` is kept as a reference so parsers do not fold it. */
export function escapeXml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text; // the common case: ids, states, numbers
  return text
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}
