/**
 * Tag rules (EC2 user guide, "Tag restrictions"): at most 50 tags per resource, keys of 1 to 128
 * and values of up to 256 characters, keys unique per resource, and the `aws:` prefix reserved.
 */
import { CatalogError, invalidValue } from '../service-errors.js';
import type { Tag } from './resource-records.js';

export const MAX_TAGS = 50;

export interface TagInput {
  Key?: string;
  Value?: string;
}

export interface TagSpecificationInput {
  ResourceType?: string;
  Tags?: TagInput[];
}

/** Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR; U+FFFE, U+FFFF; lone surrogates). */
const NOT_IN_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

export function checkTag(t: TagInput): Tag {
  const key = t.Key;
  if (key === undefined || key === '') throw invalidValue('Tag keys must be 1 to 128 characters long (Tag.N.Key is missing or empty).');
  if ([...key].length > 128) throw invalidValue(`Tag key '${key.slice(0, 40)}…' is longer than 128 characters.`);
  if (key.toLowerCase().startsWith('aws:')) throw invalidValue(`Tag keys starting with 'aws:' are reserved for AWS use: '${key}'.`);
  const value = t.Value ?? '';
  if ([...value].length > 256) throw invalidValue(`The value of tag '${key}' is longer than 256 characters.`);
  // Every answer that lists the tag is XML: one it cannot hold would be dropped or mangled there.
  if (NOT_IN_XML.test(key) || NOT_IN_XML.test(value)) {
    throw invalidValue(`Tag ${JSON.stringify(key)} holds a character a tag cannot hold (a control character such as NUL, or an unpaired surrogate).`);
  }
  return { key, value };
}

/** Sets tags (replacing values of existing keys), checking the per-resource limit. */
export function mergeTags(current: readonly Tag[], added: readonly TagInput[], resourceId: string): Tag[] {
  const out = current.map((t) => ({ ...t }));
  for (const raw of added) {
    const tag = checkTag(raw);
    const existing = out.find((t) => t.key === tag.key);
    if (existing) existing.value = tag.value;
    else out.push(tag);
  }
  if (out.length > MAX_TAGS) {
    throw new CatalogError('TAG_LIMIT_EXCEEDED', `The maximum number of tags per resource is ${MAX_TAGS}; ${resourceId} would have ${out.length}.`);
  }
  return out;
}

/** DeleteTags: a key alone deletes it whatever its value; a key with a value only on a match; none: all tags. */
export function removeTags(current: readonly Tag[], removed: readonly TagInput[] | undefined): Tag[] {
  if (removed === undefined || removed.length === 0) return [];
  return current.filter(
    (t) => !removed.some((r) => r.Key === t.key && (r.Value === undefined || r.Value === t.value)),
  );
}

/** Tags of TagSpecifications meant for `resourceType`; a specification for another type is an error. */
export function tagsFromSpecifications(specs: readonly TagSpecificationInput[] | undefined, resourceType: string, resourceId: string): Tag[] {
  let tags: Tag[] = [];
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== resourceType) {
      throw invalidValue(`'${spec.ResourceType ?? ''}' is not a valid taggable resource type for this operation (expected '${resourceType}').`);
    }
    tags = mergeTags(tags, spec.Tags ?? [], resourceId);
  }
  return tags;
}
