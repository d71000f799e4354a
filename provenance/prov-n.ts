import type { ProvDocument, ProvNode, ProvRelation, ProvValue } from './prov-model.js';

/** PROV-N (W3C PROV-N notation). */
export function provN(document: ProvDocument): string {
  const lines = ['document'];
  for (const [name, uri] of document.prefixes) lines.push(`  prefix ${name} <${iri(uri)}>`);
  for (const node of document.nodes) lines.push(`  ${nodeLine(node)}`);
  for (const relation of document.relations) lines.push(`  ${relationLine(relation)}`);
  lines.push('endDocument', '');
  return lines.join('\n');
}

const isTime = (name: string): boolean => name === 'prov:startTime' || name === 'prov:endTime';

function nodeLine(node: ProvNode): string {
  const rest = node.kind === 'activity' ? node.attributes.filter(([name]) => !isTime(name)) : node.attributes;
  const attrs = rest.length === 0 ? '' : `, [${rest.map(([name, value]) => `${name}=${literal(value)}`).join(', ')}]`;
  if (node.kind === 'activity') {
    const at = (which: string): string => {
      const found = node.attributes.find(([name]) => name === which)?.[1];
      return typeof found === 'object' && found.kind === 'time' ? found.value : '-';
    };
    return `activity(${node.id}, ${at('prov:startTime')}, ${at('prov:endTime')}${attrs})`;
  }
  return `${node.kind}(${node.id}${attrs})`;
}

function relationLine(relation: ProvRelation): string {
  switch (relation.kind) {
    case 'wasGeneratedBy':
      return `wasGeneratedBy(${relation.entity}, ${relation.activity}, -)`;
    case 'used':
      return `used(${relation.activity}, ${relation.entity}, -)`;
    case 'wasDerivedFrom':
      return relation.activity
        ? `wasDerivedFrom(${relation.generatedEntity}, ${relation.usedEntity}, ${relation.activity}, -, -)`
        : `wasDerivedFrom(${relation.generatedEntity}, ${relation.usedEntity})`;
    case 'wasAssociatedWith':
      return `wasAssociatedWith(${relation.activity}, ${relation.agent}, -)`;
    case 'wasAttributedTo':
      return `wasAttributedTo(${relation.entity}, ${relation.agent})`;
  }
}

function literal(value: ProvValue): string {
  if (typeof value === 'string') return `"${escape(value)}"`;
  if (typeof value === 'number') return `"${value}" %% ${Number.isInteger(value) ? 'xsd:long' : 'xsd:double'}`;
  if (value.kind === 'time') return `"${value.value}" %% xsd:dateTime`;
  if (value.kind === 'uri') return `"${escape(value.value)}" %% xsd:anyURI`;
  return `'${value.value}'`;
}

const escape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const iri = (text: string): string => text.replace(/[<>"{}|^`\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
