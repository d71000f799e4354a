import type { ReferenceStore } from './reference.js';

/**
 * What the array readers need of an opened dataset: its reference table and the directory that
 * relative source paths resolve against. The catalog's `Dataset` has both, so it fits as is;
 * kerchunk/ itself knows nothing of the catalog.
 */
export interface ReferencedDataset {
  readonly references: Pick<ReferenceStore, 'metadata' | 'chunk'>;
  /** Directory that relative source paths in the references resolve against. */
  readonly referenceBase: string;
}
