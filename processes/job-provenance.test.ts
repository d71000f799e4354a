import { describe, expect, it } from 'vitest';
import { provJson } from '../provenance/prov-json.js';
import { jobProvenance } from './job-provenance.js';
import type { JobRecord } from './job-store.js';

const job: JobRecord = {
  jobID: '0b5a3c1e-1111-4222-8333-444455556666',
  processID: 'subset',
  status: 'successful',
  created: '2026-01-01T00:00:00.000Z',
  updated: '2026-01-01T00:00:01.000Z',
  progress: 100,
  pid: 1,
  inputs: { dataset: 'grid' },
};

describe('jobProvenance', () => {
  it('names no requester for a public job', () => {
    const document = jobProvenance(job, 'https://strato.example/jobs/x/provenance');
    expect(document.nodes.filter((node) => node.kind === 'agent').map((node) => node.id)).toEqual(['strato:strato']);
  });

  it('names the owner of a job on a protected dataset (a prov:Person the job was associated with)', () => {
    const owner = { subject: '__proto__', issuer: 'https://idp.example.org/realms/climate' };
    const document = jobProvenance({ ...job, owner }, 'https://strato.example/jobs/x/provenance');
    const person = document.nodes.find((node) => node.kind === 'agent' && node.id === 'job:requester');
    expect(person?.attributes).toContainEqual(['prov:type', { kind: 'qname', value: 'prov:Person' }]);
    expect(person?.attributes).toContainEqual(['strato:subject', '__proto__']);
    expect(person?.attributes).toContainEqual(['strato:issuer', owner.issuer]);
    expect(document.relations).toContainEqual({ kind: 'wasAssociatedWith', activity: 'job:job', agent: 'job:requester' });
    expect(JSON.stringify(provJson(document))).toContain('"strato:subject":"__proto__"');
  });
});
