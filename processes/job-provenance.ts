import type { Dataset } from '../catalog/dataset.js';
import { addDatasetChain, type DatasetLineage } from '../provenance/lineage.js';
import { ProvBuilder, type ProvDocument, qname, time } from '../provenance/prov-model.js';
import type { JobRecord } from './job-store.js';

/**
 * The provenance of a job: its activity (process, inputs, times), the results it generated, and
 * for a dataset input the dataset's own chain back to its source files (the job used its raw view).
 * A job on a protected dataset names the person who asked for it (the token's subject and issuer,
 * never the token): a `prov:Person` the activity was associated with.
 * Public jobs name no requester.
 */
export function jobProvenance(
  job: JobRecord,
  documentUrl: string,
  input?: { readonly dataset: Dataset; readonly lineage: DatasetLineage; readonly datasetDocument: string },
): ProvDocument {
  const builder = new ProvBuilder().prefix('job', `${documentUrl}#`);
  const activity = builder.activity('job:job', [
    ['prov:type', qname('strato:Job')],
    ['prov:label', `${job.processID} job ${job.jobID}`],
    ['strato:process', job.processID],
    ['strato:status', job.status],
    ['strato:inputs', JSON.stringify(job.inputs)],
    ...(job.started ? ([['prov:startTime', time(new Date(job.started))]] as const) : []),
    ...(job.finished ? ([['prov:endTime', time(new Date(job.finished))]] as const) : []),
  ]);
  const software = builder.agent('strato:strato', [
    ['prov:type', qname('prov:SoftwareAgent')],
    ['prov:label', 'strato'],
  ]);
  builder.relate({ kind: 'wasAssociatedWith', activity, agent: software });
  if (job.owner) {
    const requester = builder.agent('job:requester', [
      ['prov:type', qname('prov:Person')],
      ['prov:label', job.owner.subject],
      ['strato:subject', job.owner.subject],
      ['strato:issuer', job.owner.issuer],
    ]);
    builder.relate({ kind: 'wasAssociatedWith', activity, agent: requester });
  }
  let used: string | undefined;
  if (input) {
    builder.prefix('ds', `${input.datasetDocument}#`);
    used = addDatasetChain(builder, input.lineage, 'ds').raw;
    builder.relate({ kind: 'used', activity, entity: used });
  }
  for (const [index, file] of (job.files ?? []).entries()) {
    const result = builder.entity(`job:result-${index + 1}`, [
      ['prov:type', qname('strato:JobResult')],
      ['prov:label', file.output],
      ['strato:mediaType', file.mediaType],
      ['strato:size', file.bytes],
    ]);
    builder.relate({ kind: 'wasGeneratedBy', entity: result, activity });
    if (used) builder.relate({ kind: 'wasDerivedFrom', generatedEntity: result, usedEntity: used, activity });
  }
  return builder.build();
}
