import type { ProvDocument, ProvNode, ProvRelation, ProvValue } from './prov-model.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** PROV-JSON (W3C member submission, as python's `prov` reads it). */
export function provJson(document: ProvDocument): Record<string, Json> {
  const out: Record<string, Json> = Object.create(null);
  const prefix: Record<string, Json> = {};
  for (const [name, uri] of document.prefixes) prefix[name] = uri;
  out.prefix = prefix;
  for (const node of document.nodes) section(out, node.kind)[node.id] = attributes(node);
  document.relations.forEach((relation, index) => {
    section(out, relation.kind)[`_:r${index + 1}`] = relationJson(relation);
  });
  return { ...out };
}

function section(out: Record<string, Json>, name: string): Record<string, Json> {
  if (!Object.hasOwn(out, name)) out[name] = {};
  return out[name] as Record<string, Json>;
}

function attributes(node: ProvNode): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, value] of node.attributes) {
    // an activity's times are formal attributes: plain xsd:dateTime strings
    const formalTime = (name === 'prov:startTime' || name === 'prov:endTime') && typeof value === 'object' && value.kind === 'time';
    const json = formalTime ? value.value : valueJson(value);
    if (Object.hasOwn(out, name)) {
      const existing = out[name] as Json;
      out[name] = Array.isArray(existing) ? [...existing, json] : [existing, json];
    } else out[name] = json;
  }
  return out;
}

export function valueJson(value: ProvValue): Json {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? { $: String(value), type: 'xsd:long' } : { $: String(value), type: 'xsd:double' };
  if (value.kind === 'time') return { $: value.value, type: 'xsd:dateTime' };
  if (value.kind === 'uri') return { $: value.value, type: 'xsd:anyURI' };
  return { $: value.value, type: 'prov:QUALIFIED_NAME' };
}

function relationJson(relation: ProvRelation): Record<string, Json> {
  switch (relation.kind) {
    case 'wasGeneratedBy':
      return { 'prov:entity': relation.entity, 'prov:activity': relation.activity };
    case 'used':
      return { 'prov:activity': relation.activity, 'prov:entity': relation.entity };
    case 'wasDerivedFrom':
      return {
        'prov:generatedEntity': relation.generatedEntity,
        'prov:usedEntity': relation.usedEntity,
        ...(relation.activity ? { 'prov:activity': relation.activity } : {}),
      };
    case 'wasAssociatedWith':
      return { 'prov:activity': relation.activity, 'prov:agent': relation.agent };
    case 'wasAttributedTo':
      return { 'prov:entity': relation.entity, 'prov:agent': relation.agent };
  }
}
