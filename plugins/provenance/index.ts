import { Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { type DatasetLineage, datasetProvenance, fullLineage } from '../../provenance/lineage.js';
import { provFormat, renderProv } from '../../provenance/negotiate.js';
import { HttpProblem } from '../../server/http/problem.js';
import { publicBaseUrl } from '../../server/http/public-url.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';

/** Lineages computed once per opened dataset (a reload opens a new Dataset object). */
function lineages(context: PluginContext): (dataset: Dataset) => Promise<DatasetLineage> {
  const made = new WeakMap<Dataset, Promise<DatasetLineage>>();
  return (dataset) => {
    let lineage = made.get(dataset);
    if (!lineage) {
      lineage = fullLineage(
        dataset,
        (id) => context.registry.get(id),
        context.stages().map((stage) => stage.key),
        context.version,
        context.registry.current.dir,
      );
      lineage.catch(() => made.delete(dataset));
      made.set(dataset, lineage);
    }
    return lineage;
  };
}

/** `GET /datasets/{id}/provenance`: W3C PROV of a dataset (PROV-JSON, PROV-N or PROV-O Turtle). */
export const provenancePlugin: StratoPlugin = {
  name: 'provenance',
  version: '1.0.0',
  datasetRoutes(context: PluginContext) {
    const app = new Hono<DatasetEnv>();
    app.get('/', async (c) => {
      const format = provFormat(c.req.query('format'), c.req.header('accept'));
      if (!format) throw new HttpProblem(406, 'Not Acceptable', 'provenance is served as application/json, text/provenance-notation or text/turtle (?format=json|provn|ttl)');
      const dataset = c.var.dataset;
      const lineage = await context.shared(lineages)(dataset);
      const documentOf = (id: string): string => `${publicBaseUrl(c.req.raw)}/datasets/${encodeURIComponent(id)}/provenance`;
      const { body, type } = renderProv(datasetProvenance(lineage, documentOf(dataset.id), documentOf), format);
      return c.body(body, 200, { 'content-type': type, vary: 'accept' });
    });
    return { prefix: 'provenance', app };
  },
};
