import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Context, Hono } from 'hono';
import { refusal } from '../../auth/authenticator.js';
import type { Dataset } from '../../catalog/dataset.js';
import { derivedChunkCache } from '../../derive/derived-dataset.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { echoProcess } from '../../processes/echo-process.js';
import { parseExecute } from '../../processes/execute-request.js';
import { type JobGrant, JobManager } from '../../processes/job-manager.js';
import { jobProvenance } from '../../processes/job-provenance.js';
import { type JobOwner, type JobRecord, jobId, ownedBy } from '../../processes/job-store.js';
import { EXCEPTION, PROCESSES_CONFORMANCE, processDocument, processSummary, resultsDocument, statusInfo } from '../../processes/ogc-documents.js';
import type { ProcessDefinition } from '../../processes/process.js';
import { subsetProcess, ZARR } from '../../processes/subset-process.js';
import { STORE_KEY } from '../../processes/zarr-writer.js';
import { datasetLineage } from '../../provenance/lineage.js';
import { provFormat, renderProv } from '../../provenance/negotiate.js';
import { headersOf, makePrivate } from '../../server/access-control.js';
import { HttpProblem } from '../../server/http/problem.js';
import { publicBaseUrl } from '../../server/http/public-url.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

const PROCESSES: ReadonlyMap<string, ProcessDefinition> = new Map([echoProcess, subsetProcess].map((p) => [p.id, p] as const));

function makeManager(context: PluginContext): JobManager {
  return new JobManager(
    context.config.jobs,
    {
      // public datasets only (nor derived from a protected one); the plugin grants protected ones per caller
      dataset: (id) => {
        const dataset = context.registry.get(id);
        return dataset && context.access.rulesOf(dataset).every((rule) => rule === undefined) ? dataset : undefined;
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

/** The inputs of a process that name a dataset (checked against the caller's token before the job is made). */
function datasetInputs(process: ProcessDefinition, inputs: ReadonlyMap<string, JsonValue>): string[] {
  const declared = process.description.inputs;
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared) || !Object.hasOwn(declared, 'dataset')) return [];
  const id = inputs.get('dataset');
  return typeof id === 'string' ? [id] : [];
}

/** A copy of `response` that no shared cache keeps for another caller. */
function privately(response: Response): Response {
  const headers = new Headers(response.headers);
  makePrivate(headers);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

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

    // answers about a job with an owner are made private on the way out, whatever built them
    const privateAnswers = new WeakSet<Context>();
    const makeAnswerPrivate = async (c: Context, next: () => Promise<void>): Promise<void> => {
      await next();
      if (!privateAnswers.has(c)) return;
      const copy = privately(c.res);
      c.res = undefined; // hono merges the old answer's headers into a new one otherwise
      c.res = copy;
    };
    app.use('/jobs/*', makeAnswerPrivate);
    app.use('/processes/*', makeAnswerPrivate);

    /**
     * Checks the datasets an execution names with the caller's own token, as `/datasets/{id}`
     * does (the same 401 / 403 / 503, logged): public ones need nothing; a protected one the
     * caller may read is granted to this job, which the caller then owns. An unknown id is left
     * to the process (its 404 says no more than `/datasets/{id}` does).
     */
    const grantFor = async (c: Context, process: ProcessDefinition, inputs: ReadonlyMap<string, JsonValue>): Promise<JobGrant> => {
      const datasets = new Map<string, Dataset>();
      for (const id of datasetInputs(process, inputs)) {
        const dataset = context.registry.get(id);
        if (dataset && (await context.access.guard(c, dataset))) datasets.set(id, dataset);
      }
      if (datasets.size === 0) return {};
      const authentication = await context.access.authenticator.authenticate(headersOf(c));
      if (authentication.kind !== 'principal') throw new HttpProblem(503, 'Service Unavailable', 'the token cannot be checked now; try again later', { 'retry-after': '30' });
      const { subject, issuer } = authentication.principal;
      return { owner: { subject, issuer }, datasets };
    };

    /** Who asks, for jobs that have an owner: the principal, or undefined (anonymous, or a token that is not valid). */
    const caller = async (c: Context): Promise<JobOwner | undefined> => {
      const authentication = await context.access.authenticator.authenticate(headersOf(c));
      return authentication.kind === 'principal' ? authentication.principal : undefined;
    };

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
      const grant = await grantFor(c, process, request.inputs);
      if (grant.owner) privateAnswers.add(c);
      return execute(c, process, request, grant);
    });

    const execute = async (c: Context, process: ProcessDefinition, request: Awaited<ReturnType<typeof parseExecute>>, grant: JobGrant): Promise<Response> => {
      const async = /\brespond-async\b/i.test(c.req.header('prefer') ?? '');
      const base = publicBaseUrl(c.req.raw);
      const record = await manager().submit(process, request.inputs, async, request.formats, grant);
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
    };

    app.get('/jobs', async (c) => {
      const base = publicBaseUrl(c.req.raw);
      await manager().open();
      const limitText = c.req.query('limit');
      const limit = limitText === undefined ? 100 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return ogcProblem(400, 'about:blank', 'Bad Request', '"limit" is an integer 1..1000');
      let jobs = await manager().store.list();
      // jobs on protected datasets are listed to their owner only; the listing then depends on the caller
      const owned = jobs.some((job) => job.owner !== undefined);
      if (owned) {
        const who = await caller(c);
        jobs = jobs.filter((job) => job.owner === undefined || ownedBy(job.owner, who));
      }
      const answer = json(c, {
        jobs: jobs.slice(0, limit).map((job) => statusInfo(job, base)),
        links: [{ href: `${base}/jobs`, rel: 'self', type: 'application/json', title: 'Jobs' }],
      });
      return owned ? privately(answer) : answer;
    });

    /**
     * The job a route names, or the answer: a job with an owner is that owner's only (no token:
     * 401 as for its dataset; a token that is not valid: 401; anyone else: 404, as if it did not
     * exist). Every answer about such a job is private.
     */
    const withJob = async (c: Context): Promise<JobRecord | Response> => {
      const given = c.req.param('id') ?? '';
      const id = jobId(given);
      if (!id) return noSuchJob(given);
      await manager().open();
      const job = await manager().store.get(id);
      if (!job) return noSuchJob(id);
      if (!job.owner) return job;
      const authentication = await context.access.authenticator.authenticate(headersOf(c));
      if (authentication.kind === 'anonymous' || authentication.kind === 'rejected' || authentication.kind === 'unavailable') {
        const { status, title, detail, headers } = refusal('unauthenticated', authentication);
        return ogcProblem(status, 'about:blank', title, detail, { ...headers });
      }
      if (!ownedBy(job.owner, authentication.principal)) return privately(noSuchJob(id));
      privateAnswers.add(c);
      return job;
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
      // the input's own chain is shown to whoever may read that dataset now (a public job's reader, or its owner)
      const readable = dataset !== undefined && (await context.access.check(headersOf(c), dataset)).refusal === undefined;
      const input =
        dataset && readable
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
