/** OpenAPI 3.0 description of the `/stac` routes (the landing page's `service-desc`). */
export function stacOpenApi(base: string, version: string): Record<string, unknown> {
  const json = (description: string, schema: Record<string, unknown> = { type: 'object' }) => ({
    description,
    content: { 'application/json': { schema } },
  });
  const geojson = (description: string) => ({ description, content: { 'application/geo+json': { schema: { $ref: '#/components/schemas/FeatureCollection' } } } });
  const error = { $ref: '#/components/responses/Error' };
  const parameter = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  });
  const searchParameters = [
    parameter('bbox', 'west,south,east,north (or 6 numbers); west > east crosses the antimeridian', { type: 'string', example: '-10,35,30,60' }),
    parameter('datetime', 'RFC 3339 instant, or interval start/end with ".." (or empty) for an open end', { type: 'string', example: '2000-01-01T00:00:00Z/..' }),
    parameter('limit', 'Items per page (1..10000, default 10)', { type: 'integer', minimum: 1, maximum: 10000, default: 10 }),
    parameter('token', 'Page token from a "next" link (also accepted as "next")'),
    parameter('sortby', 'Comma-separated fields, "+" ascending (default) or "-" descending: +id,-properties.start_datetime'),
    parameter('fields', 'Comma-separated fields to include, "-" prefixed to exclude: id,-geometry,properties.title'),
    parameter('filter', "CQL2 filter (see /stac/queryables): text such as id = 'tas-daily' AND start_datetime > DATE('2000-01-01'), or CQL2 JSON", {
      type: 'string',
      example: "id LIKE '%daily'",
    }),
    parameter('filter-lang', 'cql2-text (the default, unless the filter is a JSON object) or cql2-json', { type: 'string', enum: ['cql2-text', 'cql2-json'] }),
    parameter('filter-crs', 'Only CRS84', { type: 'string' }),
  ];
  const collectionId = { name: 'collectionId', in: 'path', required: true, schema: { type: 'string' } };
  const itemId = { name: 'itemId', in: 'path', required: true, schema: { type: 'string' } };
  return {
    openapi: '3.0.3',
    info: {
      title: 'strato STAC API',
      version,
      description: 'STAC API 1.0 (core, collections, features, item search with sort, fields and CQL2 text and JSON filters) over the datasets strato serves.',
    },
    servers: [{ url: base }],
    paths: {
      '/stac': { get: { summary: 'Landing page', responses: { 200: json('STAC Catalog with conformsTo and links') } } },
      '/stac/conformance': { get: { summary: 'Conformance classes', responses: { 200: json('conformsTo list') } } },
      '/stac/api': { get: { summary: 'This OpenAPI description', responses: { 200: json('OpenAPI 3.0 document') } } },
      '/stac/queryables': { get: { summary: 'Properties the filter may use', responses: { 200: json('JSON Schema') } } },
      '/stac/collections': { get: { summary: 'Collections', responses: { 200: json('collections and links') } } },
      '/stac/collections/{collectionId}': {
        get: { summary: 'One collection', parameters: [collectionId], responses: { 200: json('STAC Collection'), 404: error } },
      },
      '/stac/collections/{collectionId}/queryables': {
        get: { summary: 'Queryables of one collection', parameters: [collectionId], responses: { 200: json('JSON Schema'), 404: error } },
      },
      '/stac/collections/{collectionId}/items': {
        get: {
          summary: 'Items of one collection',
          parameters: [collectionId, ...searchParameters],
          responses: { 200: geojson('ItemCollection'), 400: error, 404: error },
        },
      },
      '/stac/collections/{collectionId}/items/{itemId}': {
        get: {
          summary: 'One Item',
          parameters: [collectionId, itemId],
          responses: { 200: { description: 'STAC Item', content: { 'application/geo+json': { schema: { type: 'object' } } } }, 404: error },
        },
      },
      '/stac/search': {
        get: {
          summary: 'Item search',
          parameters: [
            ...searchParameters,
            parameter('ids', 'Comma-separated Item ids'),
            parameter('collections', 'Comma-separated collection ids'),
            parameter('intersects', 'GeoJSON geometry (JSON text)'),
          ],
          responses: { 200: geojson('ItemCollection'), 400: error },
        },
        post: {
          summary: 'Item search (JSON body)',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SearchBody' } } } },
          responses: { 200: geojson('ItemCollection'), 400: error },
        },
      },
      '/datasets/{datasetId}/stac': {
        get: {
          summary: "A dataset's STAC Item",
          parameters: [{ name: 'datasetId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'STAC Item', content: { 'application/geo+json': { schema: { type: 'object' } } } }, 404: error },
        },
      },
    },
    components: {
      schemas: {
        FeatureCollection: {
          type: 'object',
          required: ['type', 'features'],
          properties: {
            type: { type: 'string', enum: ['FeatureCollection'] },
            features: { type: 'array', items: { type: 'object' } },
            links: { type: 'array', items: { type: 'object' } },
            numberMatched: { type: 'integer' },
            numberReturned: { type: 'integer' },
          },
        },
        SearchBody: {
          type: 'object',
          properties: {
            bbox: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 6 },
            intersects: { type: 'object' },
            datetime: { type: 'string' },
            ids: { type: 'array', items: { type: 'string' } },
            collections: { type: 'array', items: { type: 'string' } },
            limit: { type: 'integer', minimum: 1, maximum: 10000 },
            token: { type: 'string' },
            sortby: {
              type: 'array',
              items: { type: 'object', required: ['field'], properties: { field: { type: 'string' }, direction: { type: 'string', enum: ['asc', 'desc'] } } },
            },
            fields: { type: 'object', properties: { include: { type: 'array', items: { type: 'string' } }, exclude: { type: 'array', items: { type: 'string' } } } },
            filter: { oneOf: [{ type: 'object' }, { type: 'string' }], description: 'CQL2 JSON, or CQL2 text with filter-lang cql2-text' },
            'filter-lang': { type: 'string', enum: ['cql2-json', 'cql2-text'] },
          },
        },
      },
      responses: {
        Error: json('STAC API error', {
          type: 'object',
          required: ['code', 'description'],
          properties: { code: { type: 'string' }, description: { type: 'string' } },
        }),
      },
    },
  };
}
