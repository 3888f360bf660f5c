/** The shape of the generated EBS direct-API model (model.generated.ts). */
export type EbsLocation = 'uri' | 'querystring' | 'header' | 'body' | 'payload';

export interface EbsMemberModel {
  readonly name: string;
  readonly location: EbsLocation;
  /** The name on the wire: the URI label, query key, header or JSON key. */
  readonly wire: string;
  readonly type: string;
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  /** For a list of structures: the item's members. */
  readonly items?: readonly EbsMemberModel[];
}

export interface EbsOperationModel {
  readonly method: string;
  readonly uri: string;
  readonly successCode: number;
  readonly input: readonly EbsMemberModel[];
  readonly output: readonly EbsMemberModel[];
}
