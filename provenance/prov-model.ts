/**
 * A W3C PROV document as plain data (the PROV-DM subset strato writes): entities, activities,
 * agents and the relations between them, each node with attributes. Serializers in
 * `prov-json.ts`, `prov-n.ts` and `prov-turtle.ts` write it; `lineage.ts` builds it.
 * Identifiers are qualified names (`prefix:local`); local names are kept to `[A-Za-z0-9_-]` so
 * every serialization can write them unescaped.
 */

/** An attribute value: a string, a number (xsd:long or xsd:double), a time (xsd:dateTime) or a qualified name. */
export type ProvValue =
  | string
  | number
  | { readonly kind: 'time'; readonly value: string }
  | { readonly kind: 'qname'; readonly value: string }
  | { readonly kind: 'uri'; readonly value: string };

export type ProvAttributes = ReadonlyArray<readonly [string, ProvValue]>;

export type NodeKind = 'entity' | 'activity' | 'agent';

export interface ProvNode {
  readonly kind: NodeKind;
  readonly id: string;
  readonly attributes: ProvAttributes;
}

/** The PROV relations strato uses, with their two (or three) formal arguments. */
export type ProvRelation =
  | { readonly kind: 'wasGeneratedBy'; readonly entity: string; readonly activity: string }
  | { readonly kind: 'used'; readonly activity: string; readonly entity: string }
  | { readonly kind: 'wasDerivedFrom'; readonly generatedEntity: string; readonly usedEntity: string; readonly activity?: string }
  | { readonly kind: 'wasAssociatedWith'; readonly activity: string; readonly agent: string }
  | { readonly kind: 'wasAttributedTo'; readonly entity: string; readonly agent: string };

export interface ProvDocument {
  /** prefix → namespace URI (prov, xsd and rdfs are implied). */
  readonly prefixes: ReadonlyMap<string, string>;
  readonly nodes: readonly ProvNode[];
  readonly relations: readonly ProvRelation[];
}

/** The vocabulary of strato's own attributes and types. */
export const STRATO_NS = 'urn:strato:prov#';

const LOCAL = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Builds a document; nodes added twice keep their first attributes. */
export class ProvBuilder {
  private readonly prefixes = new Map<string, string>([['strato', STRATO_NS]]);
  private readonly nodes = new Map<string, ProvNode>();
  private readonly relations: ProvRelation[] = [];

  prefix(name: string, uri: string): this {
    if (!LOCAL.test(name)) throw new Error(`bad PROV prefix "${name}"`);
    this.prefixes.set(name, uri);
    return this;
  }

  entity(id: string, attributes: ProvAttributes = []): string {
    return this.node('entity', id, attributes);
  }

  activity(id: string, attributes: ProvAttributes = []): string {
    return this.node('activity', id, attributes);
  }

  agent(id: string, attributes: ProvAttributes = []): string {
    return this.node('agent', id, attributes);
  }

  relate(relation: ProvRelation): this {
    this.relations.push(relation);
    return this;
  }

  has(id: string): boolean {
    return this.nodes.has(id);
  }

  build(): ProvDocument {
    return { prefixes: new Map(this.prefixes), nodes: [...this.nodes.values()], relations: [...this.relations] };
  }

  private node(kind: NodeKind, id: string, attributes: ProvAttributes): string {
    checkQualifiedName(id, this.prefixes);
    if (!this.nodes.has(id)) this.nodes.set(id, { kind, id, attributes });
    return id;
  }
}

function checkQualifiedName(id: string, prefixes: ReadonlyMap<string, string>): void {
  const colon = id.indexOf(':');
  const prefix = id.slice(0, colon);
  if (colon < 1 || !prefixes.has(prefix) || !LOCAL.test(id.slice(colon + 1))) throw new Error(`bad PROV identifier "${id}"`);
}

/** A local name made from any text: letters, digits, `_` and `-` kept, the rest as `_`; never starts with a digit. */
export function localName(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 120);
  return /^[A-Za-z]/.test(cleaned) ? cleaned : `n${cleaned}`;
}

export const time = (date: Date): ProvValue => ({ kind: 'time', value: date.toISOString() });
export const qname = (value: string): ProvValue => ({ kind: 'qname', value });
export const uri = (value: string): ProvValue => ({ kind: 'uri', value });
