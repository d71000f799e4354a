import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { etagOf } from '../../server/http/etag.js';

/** The Swagger UI files the docs page uses, with their media types. Nothing else is served. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

export interface Asset {
  readonly body: Uint8Array;
  readonly type: string;
  readonly etag: string;
}

/** Reads Swagger UI's files from the installed swagger-ui-dist package, once each. */
export class SwaggerAssets {
  private readonly loaded = new Map<string, Promise<Asset>>();
  private readonly dir: string;

  constructor() {
    this.dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  }

  /** The asset of that name, or undefined when it is not one we serve. */
  get(name: string): Promise<Asset> | undefined {
    const type = ASSETS[name];
    if (!type) return undefined;
    let asset = this.loaded.get(name);
    if (!asset) {
      asset = readFile(join(this.dir, name)).then((bytes) => ({ body: new Uint8Array(bytes), type, etag: etagOf(new Uint8Array(bytes)) }));
      asset.catch(() => this.loaded.delete(name));
      this.loaded.set(name, asset);
    }
    return asset;
  }
}
