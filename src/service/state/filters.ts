/**
 * Describe* filters as data: a table per resource maps each filter name to the values it reads
 * (contract §4), so there is no if/else ladder per resource. Semantics (EC2 user guide, contract
 * §4.1): filters are ANDed, values of one filter ORed; names and values are case-sensitive;
 * values may use `*` and `?` wildcards (`\` escapes them); booleans match `true`/`false`,
 * numbers their decimal form, timestamps their ISO 8601 form with milliseconds. `tag:<key>`
 * matches that tag's value and `tag-key` any key. An unknown name is InvalidParameterValue.
 */
import { invalidValue } from '../service-errors.js';
import type { Tag } from './resource-records.js';
import { compileWildcard, type Wildcard } from './wildcard.js';

export type FieldValue = string | number | boolean | Date | undefined | null;

export interface FilterTable<T> {
  /** What the messages call the resource ("volume"). */
  resource: string;
  fields: Record<string, (item: T) => FieldValue | readonly FieldValue[]>;
  /** Enables `tag:<key>` and `tag-key`. */
  tags?: (item: T) => readonly Tag[];
  /**
   * Also `tag-value`: EC2 accepts it on its Describe calls of tagged resources, though their
   * docs list only `tag:<key>` and `tag-key`.
   */
  tagValue?: boolean;
  /** The filter that names items by id: a lookup instead of a scan when its values have no wildcard. */
  idField?: string;
}

export interface FilterInput {
  Name?: string;
  Values?: string[];
}

export interface CompiledFilter<T> {
  matches: (item: T) => boolean;
  /** Ids named exactly by the table's id filter, if there is one (intersection if repeated). */
  ids?: Set<string>;
}

type Test = (item: unknown) => boolean;

/** Values one filter may list: with the length cap, what one request can make a Describe scan cost is bounded. */
export const MAX_FILTER_VALUES = 200;
/** Characters in one filter value: past any tag value (256) or id EC2 has. */
export const MAX_FILTER_VALUE_LENGTH = 1024;

export function compileFilters<T>(table: FilterTable<T>, filters: readonly FilterInput[] | undefined): CompiledFilter<T> {
  const tests: Test[] = [];
  let ids: Set<string> | undefined;
  for (const [i, f] of (filters ?? []).entries()) {
    const name = f.Name;
    if (name === undefined || name === '') throw invalidValue(`Filter.${i + 1}.Name is required.`);
    const values = f.Values ?? [];
    if (values.length === 0) throw invalidValue(`The filter '${name}' needs at least one value (Filter.${i + 1}.Value.1).`);
    if (values.length > MAX_FILTER_VALUES) throw invalidValue(`The filter '${name}' has ${values.length} values; at most ${MAX_FILTER_VALUES} are allowed.`);
    const long = values.find((v) => v.length > MAX_FILTER_VALUE_LENGTH);
    if (long !== undefined) throw invalidValue(`A value of the filter '${name}' is ${long.length} characters long; at most ${MAX_FILTER_VALUE_LENGTH} are allowed.`);
    const patterns = values.map(compileWildcard);
    if (name === table.idField && patterns.every((p) => p.literal !== undefined)) {
      const named = new Set(patterns.map((p) => p.literal!));
      ids = ids === undefined ? named : new Set([...ids].filter((id) => named.has(id)));
    }
    tests.push(compileOne(table, name, patterns));
  }
  const matches = tests.length === 0 ? () => true : (item: T) => tests.every((t) => t(item));
  return ids === undefined ? { matches } : { matches, ids };
}

function compileOne<T>(table: FilterTable<T>, name: string, patterns: Wildcard[]): Test {
  const anyMatch = (values: readonly FieldValue[]) =>
    values.some((v) => {
      const s = fieldString(v);
      return s !== undefined && patterns.some((p) => p.test(s));
    });
  const field = Object.hasOwn(table.fields, name) ? table.fields[name] : undefined;
  if (field) {
    return (item) => {
      const v = field(item as T);
      return anyMatch(Array.isArray(v) ? v : [v as FieldValue]);
    };
  }
  const tags = table.tags;
  if (tags && name === 'tag-key') return (item) => anyMatch(tags(item as T).map((t) => t.key));
  if (tags && table.tagValue && name === 'tag-value') return (item) => anyMatch(tags(item as T).map((t) => t.value));
  if (tags && name.startsWith('tag:')) {
    const key = name.slice('tag:'.length);
    return (item) => anyMatch(tags(item as T).filter((t) => t.key === key).map((t) => t.value));
  }
  const valid = [...Object.keys(table.fields), ...(tags ? ['tag:<key>', 'tag-key'] : []), ...(tags && table.tagValue ? ['tag-value'] : [])].sort().join(', ');
  throw invalidValue(`The filter '${name}' is invalid for ${table.resource}s. Valid filters: ${valid}.`);
}

function fieldString(v: FieldValue): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
