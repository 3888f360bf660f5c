/**
 * The subset of a botocore service model that the EC2 Query codec needs.
 *
 * Shapes are referenced by name, exactly as in botocore's `service-2.json`, so a generated model
 * can be diffed against its source. Documentation, min/max and other validation-only traits are
 * dropped: the codec checks types, enums and `required`; everything else is the handlers' job.
 * The same format describes the hand-written models of the smithy ec2Query protocol tests.
 */

export type ScalarType = 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'double' | 'float';

export interface MemberRef {
  readonly shape: string;
  /** XML element name on output; on input its first letter is upper-cased (EC2 rule). */
  readonly locationName?: string;
  /** EC2-only input name; wins over `locationName` on input, ignored on output. */
  readonly queryName?: string;
}

export interface StructureShape {
  readonly type: 'structure';
  /** In model order: the encoder emits members in this order. */
  readonly members: Readonly<Record<string, MemberRef>>;
  readonly required?: readonly string[];
}

export interface ListShape {
  readonly type: 'list';
  /** `member.locationName` names each XML item on output (`item` throughout EC2). */
  readonly member: MemberRef;
}

export interface ScalarShape {
  readonly type: ScalarType;
  readonly enum?: readonly string[];
}

export type Shape = StructureShape | ListShape | ScalarShape;

export interface OperationSpec {
  readonly input?: string;
  /** Absent for operations with no modelled output (DeleteVolume, CreateTags…). */
  readonly output?: string;
}

export interface ServiceModel {
  readonly apiVersion: string;
  /** As sent on the wire (EC2: with the trailing slash real EC2 uses, which the model omits). */
  readonly xmlNamespace: string;
  readonly operations: Readonly<Record<string, OperationSpec>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

/** Looks a shape up, failing loudly on a dangling reference (a broken model, not bad input). */
export function shapeOf(model: ServiceModel, name: string): Shape {
  const shape = model.shapes[name];
  if (shape === undefined) throw new Error(`model has no shape named ${name}`);
  return shape;
}

/**
 * EC2 input rule: queryName, else locationName, else the member name, with the first letter
 * upper-cased (smithy ec2Query; botocore's EC2 member names are all capitalised already).
 */
export function queryWireName(memberName: string, member: MemberRef): string {
  if (member.queryName !== undefined) return member.queryName;
  const name = member.locationName ?? memberName;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** EC2 output rule: the locationName as is, else the member name. */
export function xmlElementName(memberName: string, member: MemberRef): string {
  return member.locationName ?? memberName;
}
