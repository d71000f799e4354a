import { Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { schemaOf } from '../../catalog/dataset-schema.js';
import { stringAttribute } from '../../cf/attributes.js';
import { requestSignal } from '../../kerchunk/request-budget.js';
import { etagOf, ifNoneMatchHits } from '../../server/http/etag.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';
import { type CachedImage, PlotCache } from './plot-cache.js';
import { type PlotParams, parsePlotParams } from './plot-params.js';
import { type PlotSlice, type PlotSource, readField, resolveSlice } from './plot-slice.js';
import { encodePng } from './png.js';
import { renderPlot } from './render.js';

export interface PlotsOptions {
  /** Bytes of rendered PNGs kept (default 64 MiB). */
  readonly cacheBytes?: number;
}

/** Seconds clients may reuse a plot before revalidating with its ETag. */
const MAX_AGE = 300;

function cacheKey(serial: number, slice: PlotSlice, params: PlotParams): string {
  const indices = Object.entries(slice.indices).map(([dim, i]) => `${dim}=${i}`);
  return [serial, slice.variable.name, ...indices, params.colormap.name, params.vmin ?? '', params.vmax ?? ''].join('|');
}

async function render(source: PlotSource, slice: PlotSlice, params: PlotParams): Promise<CachedImage> {
  const field = await readField(source, slice);
  const { variable } = slice;
  const longName = stringAttribute(variable.attrs, 'long_name') ?? variable.name;
  const units = stringAttribute(variable.attrs, 'units');
  const title = slice.timeLabel ? `${longName}, ${slice.timeLabel}` : longName;
  const subtitle = [variable.name, slice.levelLabel].filter(Boolean).join(', ');
  const { raster } = renderPlot(field, {
    title,
    subtitle,
    ...(units ? { units } : {}),
    colormap: params.colormap,
    ...(params.vmin !== undefined ? { vmin: params.vmin } : {}),
    ...(params.vmax !== undefined ? { vmax: params.vmax } : {}),
  });
  const body = await encodePng(raster, { Title: title, Software: 'strato' });
  return { body, etag: etagOf(body) };
}

/**
 * Quick-look PNGs: `/datasets/{id}/plot/{variable}.png?time=&level=&cmap=&vmin=&vmax=` draws a
 * 2-D latitude/longitude slice (first time step and level unless asked otherwise).
 */
export function createPlotsPlugin(options: PlotsOptions = {}): StratoPlugin {
  return {
    name: 'plots',
    version: '1.0.0',
    datasetRoutes(context: PluginContext) {
      const cache = new PlotCache(options.cacheBytes);
      const serials = new WeakMap<Dataset, number>();
      let nextSerial = 0;
      const sourceOf = (dataset: Dataset): PlotSource => {
        if (!serials.has(dataset)) serials.set(dataset, nextSerial++);
        return { schema: schemaOf(dataset), values: context.values(dataset) };
      };
      const app = new Hono<DatasetEnv>();
      app.get('/:file{[^/]+\\.png}', async (c) => {
        const file = c.req.param('file');
        const name = file.slice(0, -'.png'.length); // hono decodes path parameters
        const params = parsePlotParams(c.req.queries());
        const dataset = c.var.dataset;
        const source = sourceOf(dataset);
        const slice = await resolveSlice(source, name, params, requestSignal() ?? c.req.raw.signal);
        const image = await cache.get(cacheKey(serials.get(dataset) ?? -1, slice, params), () => render(source, slice, params));
        const headers = {
          etag: image.etag,
          'cache-control': `public, max-age=${MAX_AGE}`,
          'x-content-type-options': 'nosniff',
        };
        if (ifNoneMatchHits(c.req.header('if-none-match'), image.etag)) return c.body(null, 304, headers);
        return c.body(image.body as Uint8Array<ArrayBuffer>, 200, { ...headers, 'content-type': 'image/png', 'content-length': String(image.body.length) });
      });
      return { prefix: 'plot', app };
    },
  };
}

/** The plots plugin of the default set. */
export const plotsPlugin: StratoPlugin = createPlotsPlugin();
