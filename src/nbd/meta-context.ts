import { OptionData } from './option-data.js';
import { BASE_ALLOCATION } from './protocol.js';

/**
 * NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: we serve one context,
 * `base:allocation`. Query rules from the spec's `base:` namespace section:
 * - LIST with no query lists everything; `base:` is a wildcard for the namespace.
 * - SET with no query selects nothing; `base:` selects nothing.
 * - Unknown namespaces and leaf names are ignored, never an error.
 */
export interface MetaContextRequest {
  exportName: string;
  queries: string[];
}

export function parseMetaContextRequest(data: Buffer): MetaContextRequest {
  const d = new OptionData(data);
  const exportName = d.string(d.u32());
  const count = d.u32();
  const queries: string[] = [];
  for (let i = 0; i < count; i++) queries.push(d.string(d.u32()));
  d.end();
  return { exportName, queries };
}

export function listContexts(queries: readonly string[]): string[] {
  if (queries.length === 0) return [BASE_ALLOCATION];
  return queries.some((q) => q === 'base:' || q === BASE_ALLOCATION) ? [BASE_ALLOCATION] : [];
}

export function selectContexts(queries: readonly string[]): string[] {
  return queries.includes(BASE_ALLOCATION) ? [BASE_ALLOCATION] : [];
}
