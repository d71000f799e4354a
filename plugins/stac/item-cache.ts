import type { Dataset } from '../../catalog/dataset.js';
import type { DatasetValues } from '../../kerchunk/array-values.js';
import { currentBudget, RequestBudget, withBudget } from '../../kerchunk/request-budget.js';
import { buildItem, type ItemOptions, type ItemRecord } from '../../stac-model/items.js';

/** How long an Item built while some coordinate could not be read is kept before trying again. */
const RETRY_AFTER_MS = 60_000;

interface Entry {
  readonly record: Promise<ItemRecord>;
  expires?: number;
}

/**
 * Items per opened dataset. A reloaded dataset is a new object, so the WeakMap forgets the old
 * Item with it; concurrent requests for one dataset share one build.
 */
export class ItemCache {
  private readonly entries = new WeakMap<Dataset, Entry>();

  constructor(
    private readonly values: (dataset: Dataset) => DatasetValues,
    private readonly options: Omit<ItemOptions, 'signal'> = {},
  ) {}

  get(dataset: Dataset): Promise<ItemRecord> {
    const cached = this.entries.get(dataset);
    if (cached && (cached.expires === undefined || cached.expires > Date.now())) return cached.record;
    // An Item is shared by every request that needs it: it is built under a budget of its own (the
    // limits of a request, its own counters, no client), so one client leaving does not spoil it
    // for the others, and the first requester is not charged for the catalog's work.
    const budget = new RequestBudget(currentBudget().limits);
    const record = withBudget(budget, () => buildItem(dataset, this.values(dataset), this.options));
    record.finally(() => budget.close()).catch(() => undefined);
    const entry: Entry = { record };
    this.entries.set(dataset, entry);
    entry.record.then(
      (record) => {
        if (record.problems.length > 0) entry.expires = Date.now() + RETRY_AFTER_MS;
      },
      () => {
        if (this.entries.get(dataset) === entry) this.entries.delete(dataset);
      },
    );
    return entry.record;
  }

  /** Items of many datasets, in the order given. */
  all(datasets: readonly Dataset[]): Promise<ItemRecord[]> {
    return Promise.all(datasets.map((dataset) => this.get(dataset)));
  }
}
