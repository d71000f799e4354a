import { type Context, Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { schemaOf } from '../../catalog/dataset-schema.js';
import { CodecError } from '../../kerchunk/codecs/codec.js';
import { BudgetExceededError, currentBudget } from '../../kerchunk/request-budget.js';
import { SourceError, SourceForbiddenError } from '../../kerchunk/sources/source-error.js';
import type { Logger } from '../../server/log.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';
import { parseConstraint } from './constraint.js';
import { DapError, dapErrorResponse, dapHeaders } from './dap-error.js';
import { dasText } from './das.js';
import { type DapDataset, dapDataset } from './dataset-model.js';
import { ddsText } from './dds.js';
import { dodsChunkCount, dodsSize, dodsStream } from './dods.js';
import { selectVariables } from './projection.js';

export interface OpendapOptions {
  /** Largest `.dods` response served; larger requests get a DAP error. Default: `context.config.dapMaxBytes` (STRATO_DAP_MAX_BYTES, else 1 GiB). */
  readonly maxResponseBytes?: number;
  /** Values read and encoded at once per piece of a response (default 4 MiB). */
  readonly pieceBytes?: number;
  /** Pieces read ahead while one is sent (default 2). */
  readonly readAhead?: number;
}

const RESPONSES = ['dds', 'das', 'dods', 'ver'] as const;
type ResponseKind = (typeof RESPONSES)[number];

/**
 * OPeNDAP DAP 2.0 for netCDF-C clients (ncdump, cdo, netCDF4-python): the dataset URL is
 * `/datasets/{id}/opendap`; clients append `.dds`, `.das`, `.dods` (and `?constraint`).
 * Those sibling paths are app-level routes; `/datasets/{id}/opendap` itself answers with a
 * short description of the service.
 */
export function createOpendapPlugin(options: OpendapOptions = {}): StratoPlugin {
  return {
    name: 'opendap',
    version: '1.0.0',
    renderProblem(status, message, path) {
      // e.g. an unknown dataset id: netCDF-C prints a DAP error, but cannot parse problem+json
      if (!/^\/datasets\/[^/]+\/opendap\.(dds|das|dods|ver)$/.test(path)) return undefined;
      return dapErrorResponse(new DapError(status, message), '1.0.0');
    },
    appRoutes(context: PluginContext) {
      const service = new OpendapService(context, options);
      const app = new Hono();
      for (const kind of RESPONSES) app.get(`/datasets/:id/opendap.${kind}`, (c) => service.respond(c, kind));
      return app;
    },
    datasetRoutes(context: PluginContext) {
      const app = new Hono<DatasetEnv>();
      app.get('/', (c) =>
        c.text(
          `OPeNDAP (DAP 2.0) access to dataset "${c.var.dataset.id}".\n` +
            'Open this URL with a netCDF-C client (ncdump -h URL, cdo sinfo URL, netCDF4.Dataset(URL)).\n' +
            'Responses: URL.dds, URL.das, URL.dods, URL.ver; constraints: URL.dods?var[start:stride:stop]\n',
          200,
          dapHeaders('dods_description', context.version),
        ),
      );
      return { prefix: 'opendap', app };
    },
  };
}

export const opendapPlugin: StratoPlugin = createOpendapPlugin();

class OpendapService {
  private readonly models = new WeakMap<Dataset, DapDataset>();
  private readonly maxBytes: number;
  private readonly logger: Logger;

  constructor(
    private readonly context: PluginContext,
    private readonly options: OpendapOptions,
  ) {
    this.maxBytes = options.maxResponseBytes ?? context.config.dapMaxBytes;
    this.logger = context.logger;
  }

  async respond(c: Context, kind: ResponseKind): Promise<Response> {
    const version = this.context.version;
    const id = c.req.param('id') ?? '';
    const query = queryOf(c.req.url);
    this.logger.debug('opendap request', { dataset: id, response: kind, constraint: query });
    try {
      const dataset = this.context.registry.get(id);
      if (!dataset) throw new DapError(404, `no dataset "${id}"`);
      if (kind === 'ver') return text(`Core version: DAP/2.0\nServer version: strato/${version}\n`, 'dods_version', version);
      const model = this.modelOf(dataset);
      if (kind === 'das') return text(dasText(model), 'dods_das', version);
      const selected = selectVariables(model, parseConstraint(query));
      const dds = ddsText(model.name, selected);
      if (kind === 'dds') return text(dds, 'dods_dds', version);
      const size = dodsSize(Buffer.byteLength(dds), selected);
      if (size > this.maxBytes) {
        throw new DapError(413, `the request would return ${size} bytes, more than this server's limit of ${this.maxBytes} bytes; ask for a smaller hyperslab`);
      }
      const headers = {
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        'cache-control': 'no-cache',
        ...dapHeaders('dods_data', version),
      };
      // every chunk the answer will touch, checked before the first is read (the reads count them as they go)
      currentBudget().ensureChunks(dodsChunkCount(selected));
      if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers });
      const body = await dodsStream(dds, selected, {
        pieceBytes: this.options.pieceBytes ?? 4 * 1024 * 1024,
        readAhead: this.options.readAhead ?? 2,
        onError: (error) => this.logger.warn('opendap response cut short', { dataset: id, error: (error as Error).message }),
      });
      return new Response(body, { status: 200, headers });
    } catch (error) {
      return dapErrorResponse(this.asDapError(error, id), version);
    }
  }

  private modelOf(dataset: Dataset): DapDataset {
    let model = this.models.get(dataset);
    if (!model) {
      model = dapDataset({
        name: dataset.id,
        schema: schemaOf(dataset),
        values: this.context.values(dataset),
        metadataText: dataset.references.metadataText,
      });
      for (const { name, reason } of model.leftOut) this.logger.info('opendap leaves out a variable', { dataset: dataset.id, variable: name, reason });
      for (const variable of model.variables) {
        const conversion = variable.attributes.find((a) => a.name === 'strato_dap_conversion');
        if (conversion) this.logger.info('opendap converts a variable', { dataset: dataset.id, variable: variable.name, conversion: conversion.values[0] });
      }
      this.models.set(dataset, model);
    }
    return model;
  }

  private asDapError(error: unknown, id: string): DapError {
    if (error instanceof DapError) return error;
    if (error instanceof SourceForbiddenError) return new DapError(403, 'a reference points outside the allowed sources');
    if (error instanceof BudgetExceededError) return new DapError(error.limit === 'wallMs' ? 503 : 413, error.message);
    if (error instanceof Error && error.name === 'AbortError') return new DapError(503, 'the request was cancelled');
    if (error instanceof CodecError) {
      this.logger.warn('opendap chunk could not be decoded', { dataset: id, error: error.message });
      return new DapError(502, `a source chunk could not be decoded: ${error.message}`);
    }
    if (error instanceof SourceError) {
      this.logger.warn('opendap source read failed', { dataset: id, error: error.message });
      if (error.failure === 'timeout') return new DapError(504, 'the source did not answer in time');
      if (error.failure === 'unavailable') return new DapError(503, 'the source is unavailable');
      return new DapError(502, `the source could not be read (${error.failure})`);
    }
    this.logger.error('opendap request failed', { dataset: id, error: (error as Error).message, stack: (error as Error).stack });
    return new DapError(500, 'unexpected server error; see the server log');
  }
}

/** The raw query of a URL (percent-encoding kept: the constraint parser decodes it). */
function queryOf(url: string): string {
  const mark = url.indexOf('?');
  return mark < 0 ? '' : url.slice(mark + 1);
}

function text(body: string, description: string, version: string): Response {
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', ...dapHeaders(description, version) },
  });
}
