import type { JsonValue } from '../kerchunk/reference.js';
import type { JobRecord } from './job-store.js';
import type { ProcessDefinition } from './process.js';

type Json = { [key: string]: JsonValue };

/** OGC API – Processes 1.0 Part 1 conformance classes strato implements. */
export const PROCESSES_CONFORMANCE: readonly string[] = [
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description',
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json',
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list',
  'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss',
];

export const EXCEPTION = {
  noSuchProcess: 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process',
  noSuchJob: 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job',
  resultNotReady: 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready',
} as const;

const JSON_TYPE = 'application/json';

/** processSummary (the fields of the description a list shows) with its links. */
export function processSummary(process: ProcessDefinition, base: string): Json {
  const { inputs: _inputs, outputs: _outputs, ...summary } = process.description;
  return { ...summary, links: processLinks(process, base) };
}

/** process (the full OGC Process Description) with its links. */
export function processDocument(process: ProcessDefinition, base: string): Json {
  return { ...process.description, links: processLinks(process, base) };
}

function processLinks(process: ProcessDefinition, base: string): JsonValue {
  const self = `${base}/processes/${process.id}`;
  return [
    { href: self, rel: 'self', type: JSON_TYPE, title: 'Process description' },
    { href: `${self}/execution`, rel: 'http://www.opengis.net/def/rel/ogc/1.0/execute', type: JSON_TYPE, title: 'Execute' },
  ];
}

/** statusInfo of a job. */
export function statusInfo(record: JobRecord, base: string): Json {
  const self = `${base}/jobs/${record.jobID}`;
  const links: Json[] = [{ href: self, rel: 'self', type: JSON_TYPE, title: 'Job status' }];
  if (record.status === 'successful') {
    links.push({ href: `${self}/results`, rel: 'http://www.opengis.net/def/rel/ogc/1.0/results', type: JSON_TYPE, title: 'Results' });
    links.push({ href: `${self}/provenance`, rel: 'provenance', type: JSON_TYPE, title: 'Provenance (W3C PROV-JSON)' });
  }
  return {
    processID: record.processID,
    type: 'process',
    jobID: record.jobID,
    status: record.status,
    ...(record.message ? { message: record.message } : {}),
    created: record.created,
    ...(record.started ? { started: record.started } : {}),
    ...(record.finished ? { finished: record.finished } : {}),
    updated: record.updated,
    progress: record.progress,
    ...(record.expires ? { expires: record.expires } : {}),
    links,
  };
}

/** The results document: inline values (objects as qualified values), files as links. */
export function resultsDocument(record: JobRecord, base: string): Json {
  const out: Json = Object.create(null);
  for (const [name, value] of Object.entries(record.outputs ?? {})) {
    out[name] = value !== null && typeof value === 'object' && !Array.isArray(value) ? { value, mediaType: JSON_TYPE } : value;
  }
  for (const file of record.files ?? []) {
    out[file.output] = { href: `${base}/jobs/${record.jobID}/results/${file.output}`, type: file.mediaType, title: `${file.output} (${file.bytes} bytes)` };
  }
  return out;
}
