import type { ProvDocument, ProvRelation, ProvValue } from './prov-model.js';

/** PROV-O in Turtle: each node typed (prov:Entity, prov:Activity, prov:Agent), relations as the starting-point properties. */
export function provTurtle(document: ProvDocument): string {
  const lines = ['@prefix prov: <http://www.w3.org/ns/prov#> .', '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .', '@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .'];
  for (const [name, uri] of document.prefixes) lines.push(`@prefix ${name}: <${iri(uri)}> .`);
  lines.push('');
  const triples = new Map<string, string[]>();
  const add = (subject: string, predicate: string, object: string): void => {
    const list = triples.get(subject) ?? [];
    list.push(`${predicate} ${object}`);
    triples.set(subject, list);
  };
  for (const node of document.nodes) {
    add(node.id, 'a', node.kind === 'entity' ? 'prov:Entity' : node.kind === 'activity' ? 'prov:Activity' : 'prov:Agent');
    for (const [name, value] of node.attributes) {
      const predicate =
        name === 'prov:label' ? 'rdfs:label' : name === 'prov:type' ? 'a' : name === 'prov:startTime' ? 'prov:startedAtTime' : name === 'prov:endTime' ? 'prov:endedAtTime' : name;
      add(node.id, predicate, name === 'prov:type' && typeof value === 'object' && value.kind === 'qname' ? value.value : term(value));
    }
  }
  for (const relation of document.relations) {
    const [subject, predicate, object] = triple(relation);
    add(subject, predicate, object);
  }
  for (const [subject, list] of triples) lines.push(`${subject}\n  ${list.join(' ;\n  ')} .`, '');
  return lines.join('\n');
}

function triple(relation: ProvRelation): [string, string, string] {
  switch (relation.kind) {
    case 'wasGeneratedBy':
      return [relation.entity, 'prov:wasGeneratedBy', relation.activity];
    case 'used':
      return [relation.activity, 'prov:used', relation.entity];
    case 'wasDerivedFrom':
      return [relation.generatedEntity, 'prov:wasDerivedFrom', relation.usedEntity];
    case 'wasAssociatedWith':
      return [relation.activity, 'prov:wasAssociatedWith', relation.agent];
    case 'wasAttributedTo':
      return [relation.entity, 'prov:wasAttributedTo', relation.agent];
  }
}

function term(value: ProvValue): string {
  if (typeof value === 'string') return `"${escape(value)}"`;
  if (typeof value === 'number') return Number.isInteger(value) ? `"${value}"^^xsd:long` : `"${value}"^^xsd:double`;
  if (value.kind === 'time') return `"${value.value}"^^xsd:dateTime`;
  if (value.kind === 'uri') return `<${iri(value.value)}>`;
  return value.value;
}

const escape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const iri = (text: string): string => text.replace(/[<>"{}|^`\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
