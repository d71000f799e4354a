import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { sharedDir } from './server.js';

/**
 * Offline STAC validation with ajv against ../shared/stac-schemas: STAC 1.0.0 (catalog,
 * collection, item), the extension schemas each document names in `stac_extensions`, and GeoJSON.
 * Every schema is registered under its canonical URL (derived from its place in the folder, as
 * some files carry odd `$id`s); PROJJSON, which the datacube schema refers to, is a permissive object.
 */
export class StacValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Number of documents validated (each Item of an ItemCollection counts once more). */
  count = 0;

  constructor(root = join(sharedDir, 'stac-schemas')) {
    // STAC's iri formats: an absolute IRI (scheme first) and any IRI reference.
    this.ajv = new Ajv({ strict: false, allErrors: true, formats: { iri: /^[a-z][a-z0-9+.-]*:\S*$/i, 'iri-reference': /^\S*$/ } });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
    addFormats(this.ajv);
    for (const file of jsonFiles(root)) {
      const path = relative(root, file).split('\\').join('/');
      const id = canonicalId(path);
      if (!id) continue;
      const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      this.ajv.addSchema({ ...schema, $id: id });
    }
    this.ajv.addSchema({ $id: 'https://proj.org/schemas/v0.4/projjson.schema.json', type: 'object' });
  }

  /** Problems of a Catalog, Collection or Item (core schema plus its extensions); empty when valid. */
  validate(document: unknown): string[] {
    this.count++;
    const type = (document as { type?: unknown }).type;
    const core =
      type === 'Feature'
        ? 'https://schemas.stacspec.org/v1.0.0/item-spec/json-schema/item.json'
        : type === 'Collection'
          ? 'https://schemas.stacspec.org/v1.0.0/collection-spec/json-schema/collection.json'
          : 'https://schemas.stacspec.org/v1.0.0/catalog-spec/json-schema/catalog.json';
    const problems = this.check(core, document);
    const extensions = (document as { stac_extensions?: unknown }).stac_extensions;
    if (Array.isArray(extensions)) for (const extension of extensions) problems.push(...this.check(String(extension).replace(/#$/, ''), document));
    return problems;
  }

  /** Problems of an ItemCollection: GeoJSON FeatureCollection, and every feature as a STAC Item. */
  validateItemCollection(document: unknown): string[] {
    this.count++;
    const problems = this.check('https://geojson.org/schema/FeatureCollection.json', document);
    const features = (document as { features?: unknown }).features;
    if (Array.isArray(features)) features.forEach((feature, i) => problems.push(...this.validate(feature).map((p) => `features[${i}]: ${p}`)));
    return problems;
  }

  private check(id: string, document: unknown): string[] {
    let validate = this.compiled.get(id);
    if (!validate) {
      const found = this.ajv.getSchema(id);
      if (!found) return [`no schema ${id} in the offline schema folder`];
      validate = found;
      this.compiled.set(id, validate);
    }
    if (validate(document)) return [];
    return (validate.errors ?? []).map((e) => `${id.split('/').slice(-3).join('/')}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }
}

function canonicalId(path: string): string | undefined {
  if (path.startsWith('v1.0.0/')) return `https://schemas.stacspec.org/${path}`;
  const extension = /^extensions\/([^/]+)\/(v[^/]+)\/schema\.json$/.exec(path);
  if (extension) return `https://stac-extensions.github.io/${extension[1]}/${extension[2]}/schema.json`;
  if (path.startsWith('geojson/')) return `https://geojson.org/schema/${path.slice('geojson/'.length)}`;
  return undefined;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsonFiles(path);
    return entry.name.endsWith('.json') ? [path] : [];
  });
}
