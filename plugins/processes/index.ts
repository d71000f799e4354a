import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Context, Hono } from 'hono';
import { derivedChunkCache } from '../../derive/derived-dataset.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { echoProcess } from '../../processes/echo-process.js';
import { parseExecute } from '../../processes/execute-request.js';
import { JobManager } from '../../processes/job-manager.js';
import { jobProvenance } from '../../processes/job-provenance.js';
import { type JobRecord, jobId } from '../../processes/job-store.js';
import { EXCEPTION, PROCESSES_CONFORMANCE, processDocument, processSummary, resultsDocument, statusInfo } from '../../processes/ogc-documents.js';
import type { ProcessDefinition } from '../../processes/process.js';
import { subsetProcess, ZARR } from '../../processes/subset-process.js';
import { STORE_KEY } from '../../processes/zarr-writer.js';
import { datasetLineage } from '../../provenance/lineage.js';
import { provFormat, renderProv } from '../../provenance/negotiate.js';
import { publicBaseUrl } from '../../server/http/public-url.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

const PROCESSES: ReadonlyMap<string, ProcessDefinition> = new Map([echoProcess, subsetProcess].map((p) => [p.id, p] as const));

function makeManager(context: PluginContext): JobManager {
  return new JobManager(
    context.config.jobs,
    {
      dataset: (id) => {
        const dataset = context.registry.get(id);
        return dataset && !dataset.entry.access ? dataset : undefined;
      },
      values: (dataset) => context.values(dataset),
      budget: context.config.budget,
      maxOutputBytes: context.config.jobs.maxOutputBytes,
      derivedCache: derivedChunkCache(64 * 1024 * 1024),
    },
    PROCESSES,
  );
}

/** An OGC exception (problem+json with the OGC type URI). */
function ogcProblem(status: number, type: string, title: string, detail: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type, title, status, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers },
  });
}

const noSuchJob = (id: string): Response => ogcProblem(404, EXCEPTION.noSuchJob, 'No such job', `no job "${id.slice(0, 64)}" (it may have expired or been dismissed)`);
const noSuchProcess = (id: string): Response => ogcProblem(404, EXCEPTION.noSuchProcess, 'No such process', `no process "${id.slice(0, 64)}"`);

const json = (c: Context, body: unknown, status: 200 | 201 = 200, headers: Record<string, string> = {}): Response =>
  c.body(JSON.stringify(body), status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });

/**
 * OGC API – Processes 1.0 (Part 1 Core, OGC process description, JSON, job list, dismiss):
 * `/processes`, `/processes/{id}`, `POST /processes/{id}/execution`, `/jobs`, `/jobs/{id}`,
 * `/jobs/{id}/results`, `DELETE /jobs/{id}`, and `/conformance` (every plugin's classes).
 */
export const processesPlugin: StratoPlugin = {
  name: 'processes',
  version: '1.0.0',
  conformsTo: PROCESSES_CONFORMANCE,
  landingLinks: [
    { rel: 'conformance', href: '/conformance', type: 'application/json', title: 'Conformance classes' },
    { rel: 'http://www.opengis.net/def/rel/ogc/1.0/conformance', href: '/conformance', type: 'application/json', title: 'Conformance classes' },
    { rel: 'http://www.opengis.net/def/rel/ogc/1.0/processes', href: '/processes', type: 'application/json', title: 'Processes' },
    { rel: 'http://www.opengis.net/def/rel/ogc/1.0/job-list', href: '/jobs', type: 'application/json', title: 'Jobs' },
  ],
  appRoutes(context: PluginContext) {
    const app = new Hono();
    const manager = (): JobManager => context.shared(makeManager);

    app.get('/conformance', (c) => {
      const classes = new Set<string>();
      for (const plugin of context.plugins()) for (const uri of plugin.conformsTo ?? []) classes.add(uri);
      return json(c, { conformsTo: [...classes] });
    });

    app.get('/processes', (c) => {
      const base = publicBaseUrl(c.req.raw);
      return json(c, {
        processes: [...PROCESSES.values()].map((p) => processSummary(p, base)),
        links: [{ href: `${base}/processes`, rel: 'self', type: 'application/json', title: 'Processes' }],
      });
    });

    app.get('/processes/:id', (c) => {
      const process = PROCESSES.get(c.req.param('id'));
      return process ? json(c, processDocument(process, publicBaseUrl(c.req.raw))) : noSuchProcess(c.req.param('id'));
    });

    app.post('/processes/:id/execution', async (c) => {
      const process = PROCESSES.get(c.req.param('id'));
      if (!process) return noSuchProcess(c.req.param('id'));
      const request = await parseExecute(c.req.raw);
      const async = /\brespond-async\b/i.test(c.req.header('prefer') ?? '');
      const base = publicBaseUrl(c.req.raw);
      const record = await manager().submit(process, request.inputs, async, request.formats);
      const location = `${base}/jobs/${record.jobID}`;
      if (async) return json(c, statusInfo(record, base), 201, { location, 'preference-applied': 'respond-async' });
      if (record.status !== 'successful') {
        const status = manager().failure(record.jobID)?.status ?? 500;
        return ogcProblem(status, 'about:blank', 'Job failed', record.message ?? 'failed', { location });
      }
      const file = record.files?.[0];
      if (request.response === 'raw' && file && file.mediaType !== ZARR && record.files?.length === 1 && !record.outputs)
        return fileResponse(manager(), record, file.output, location);
      return json(c, resultsDocument(record, base), 200, { location });
    });

    app.get('/jobs', async (c) => {
      const base = publicBaseUrl(c.req.raw);
      await manager().open();
      const limitText = c.req.query('limit');
      const limit = limitText === undefined ? 100 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return ogcProblem(400, 'about:blank', 'Bad Request', '"limit" is an integer 1..1000');
      const jobs = (await manager().store.list()).slice(0, limit);
      return json(c, { jobs: jobs.map((job) => statusInfo(job, base)), links: [{ href: `${base}/jobs`, rel: 'self', type: 'application/json', title: 'Jobs' }] });
    });

    const withJob = async (c: Context): Promise<JobRecord | Response> => {
      const given = c.req.param('id') ?? '';
      const id = jobId(given);
      if (!id) return noSuchJob(given);
      await manager().open();
      return (await manager().store.get(id)) ?? noSuchJob(id);
    };

    app.get('/jobs/:id', async (c) => {
      const job = await withJob(c);
      return job instanceof Response ? job : json(c, statusInfo(job, publicBaseUrl(c.req.raw)));
    });

    app.delete('/jobs/:id', async (c) => {
      const job = await withJob(c);
      if (job instanceof Response) return job;
      const dismissed = await manager().dismiss(job.jobID);
      return dismissed ? json(c, statusInfo(dismissed, publicBaseUrl(c.req.raw))) : noSuchJob(job.jobID);
    });

    app.get('/jobs/:id/results', async (c) => {
      const job = await withJob(c);
      if (job instanceof Response) return job;
      if (job.status === 'failed') return ogcProblem(manager().failure(job.jobID)?.status ?? 500, 'about:blank', 'Job failed', job.message ?? 'failed');
      if (job.status !== 'successful') return ogcProblem(404, EXCEPTION.resultNotReady, 'Result not ready', `job ${job.jobID} is ${job.status}`);
      return json(c, resultsDocument(job, publicBaseUrl(c.req.raw)));
    });

    app.get('/jobs/:id/provenance', async (c) => {
      const job = await withJob(c);
      if (job instanceof Response) return job;
      const format = provFormat(c.req.query('format'), c.req.header('accept'));
      if (!format) return ogcProblem(406, 'about:blank', 'Not Acceptable', 'provenance is served as application/json, text/provenance-notation or text/turtle');
      const base = publicBaseUrl(c.req.raw);
      const inputs = job.inputs;
      const id = inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs) && typeof inputs.dataset === 'string' ? inputs.dataset : undefined;
      const dataset = id === undefined ? undefined : context.registry.get(id);
      const input =
        dataset && !dataset.entry.access
          ? {
              dataset,
              lineage: await datasetLineage(
                dataset,
                context.stages().map((s) => s.key),
                context.version,
                context.registry.current.dir,
              ),
              datasetDocument: `${base}/datasets/${encodeURIComponent(dataset.id)}/provenance`,
            }
          : undefined;
      const { body, type } = renderProv(jobProvenance(job, `${base}/jobs/${job.jobID}/provenance`, input), format);
      return c.body(body, 200, { 'content-type': type, vary: 'accept', 'cache-control': 'no-store' });
    });

    app.get('/jobs/:id/results/:output', async (c) => {
      const job = await withJob(c);
      if (job instanceof Response) return job;
      if (job.status !== 'successful') return ogcProblem(404, EXCEPTION.resultNotReady, 'Result not ready', `job ${job.jobID} is ${job.status}`);
      const output = c.req.param('output');
      if (job.outputs && Object.hasOwn(job.outputs, output)) return json(c, job.outputs[output] as JsonValue);
      return fileResponse(manager(), job, output, `${publicBaseUrl(c.req.raw)}/jobs/${job.jobID}`);
    });

    app.get('/jobs/:id/results/:output/*', async (c) => {
      const job = await withJob(c);
      if (job instanceof Response) return job;
      const file = job.status === 'successful' ? job.files?.find((f) => f.output === c.req.param('output') && f.mediaType === ZARR) : undefined;
      const prefix = `/jobs/${job.jobID}/results/${c.req.param('output')}/`;
      const key = decodeURIComponent(new URL(c.req.url).pathname.slice(prefix.length));
      if (!file || !STORE_KEY.test(key)) return ogcProblem(404, 'about:blank', 'Not Found', `no store key "${key.slice(0, 100)}"`);
      const path = join(manager().store.resultDir(job.jobID), file.file, key);
      try {
        const body = await readFile(path);
        return c.body(body, 200, { 'content-type': key.includes('.z') ? 'application/json' : 'application/octet-stream', 'cache-control': 'no-store' });
      } catch {
        return ogcProblem(404, 'about:blank', 'Not Found', `no store key "${key.slice(0, 100)}"`); // a missing chunk: the fill value
      }
    });
    return app;
  },
};

function fileResponse(manager: JobManager, job: JobRecord, output: string, location: string): Response {
  const file = job.files?.find((f) => f.output === output);
  if (file?.mediaType === ZARR) {
    return Response.redirect(`${location}/results/${output}/.zmetadata`, 303);
  }
  if (!file) return ogcProblem(404, 'about:blank', 'No such output', `job ${job.jobID} has no output "${output.slice(0, 64)}"`);
  const stream = createReadStream(join(manager.store.resultDir(job.jobID), file.file));
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
    status: 200,
    headers: {
      'content-type': file.mediaType,
      'content-length': String(file.bytes),
      'content-disposition': `attachment; filename="${job.processID}-${job.jobID.slice(0, 8)}.nc"`,
      'cache-control': 'no-store',
      location,
    },
  });
}
