import { DATASET_ID } from '../../catalog/catalog-file.js';
import { ROUTE_DOCS, type RouteDoc } from './route-docs.js';
import { type AppRoute, pathParameters } from './route-paths.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const PROBLEM_RESPONSE: Json = { description: 'An RFC 9457 problem document.', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

function parameter(name: string, doc: RouteDoc | undefined): JsonObject {
  if (name === 'id') {
    return { name, in: 'path', required: true, description: 'Dataset id.', schema: { type: 'string', pattern: DATASET_ID.source, maxLength: 128 } };
  }
  return { name, in: 'path', required: true, description: doc?.params?.[name] ?? name, schema: { type: 'string' } };
}

function operation(route: AppRoute, doc: RouteDoc | undefined): JsonObject {
  const method = route.method.toUpperCase();
  const status = String(doc?.status ?? (method === 'DELETE' ? 204 : 200));
  const produces = doc?.produces ?? ['application/json'];
  const success: JsonObject = { description: doc?.summary ?? 'Success' };
  if (produces.length) success.content = Object.fromEntries(produces.map((type) => [type, {}]));
  const parameters: Json[] = [
    ...pathParameters(route.path).map((name) => parameter(name, doc)),
    ...(doc?.query ?? []).map((q) => ({
      name: q.name,
      in: 'query',
      required: false,
      description: q.description,
      schema: q.schema as Json,
      ...(q.example !== undefined ? { example: q.example } : {}),
    })),
  ];
  const op: JsonObject = {
    operationId: `${method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: doc?.summary ?? `${method} ${route.path}`,
    description: doc?.description ?? `Served by the "${route.plugin}" plugin.`,
    tags: [route.plugin],
    parameters,
    responses: { [status]: success, '4XX': PROBLEM_RESPONSE, '5XX': PROBLEM_RESPONSE },
  };
  if (doc?.jsonBody) op.requestBody = { required: true, content: { 'application/json': { schema: { type: 'object' } } } };
  if (doc?.bearer) op.security = [{ bearer: [] }];
  return op;
}

/** An OpenAPI 3.1 document of these routes, documented from ROUTE_DOCS where it has them. */
export function openApiDocument(routes: readonly AppRoute[], version: string, docs: Readonly<Record<string, RouteDoc>> = ROUTE_DOCS): JsonObject {
  const paths: { [path: string]: JsonObject } = {};
  const sorted = [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operation(route, docs[`${route.method.toUpperCase()} ${route.path}`]);
  }
  const plugins = [...new Set(sorted.map((r) => r.plugin))];
  return {
    openapi: '3.1.0',
    info: {
      title: 'strato',
      version,
      summary: 'kerchunk reference tables served as virtual Zarr datasets',
      description:
        'NetCDF4/HDF5 archives served as cloud-native Zarr without copying them, plus OPeNDAP (DAP2), STAC, intake and quick-look maps. Every response carries CORS `*`; errors are `application/problem+json`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    tags: plugins.map((name) => ({ name, description: `Routes of the "${name}" plugin.` })),
    paths,
    components: {
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status'],
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' } },
        },
      },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The admin token (`STRATO_ADMIN_TOKEN`).' } },
    },
  };
}
