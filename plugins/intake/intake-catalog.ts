import { stringify } from 'yaml';
import type { Dataset } from '../../catalog/dataset.js';
import { schemaOf } from '../../catalog/dataset-schema.js';
import type { JsonValue } from '../../kerchunk/reference.js';

/** The Zarr views of a dataset an intake source can open. */
export const VIEWS = ['kerchunk', 'zarr'] as const;
export type View = (typeof VIEWS)[number];

const VIEW_DESCRIPTIONS: Readonly<Record<View, string>> = {
  kerchunk: 'raw view: chunks exactly as the source files store them',
  zarr: "processed view: the catalog entry's processing (rechunk, bit-round, re-compress) applied",
};

type Yaml = { [key: string]: JsonValue };

/**
 * `/intake.yaml`: an intake v1 catalog with one source per dataset, `driver: zarr` (intake-xarray),
 * whose `method` parameter picks the view: urlpath `<base>/datasets/<id>/{{ method }}`.
 */
export function intakeCatalog(datasets: readonly Dataset[], base: string, title: string): string {
  const sources: Yaml = {};
  for (const dataset of [...datasets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    sources[dataset.id] = {
      description: describe(dataset),
      driver: 'zarr',
      parameters: {
        method: {
          description: `Zarr view to open: ${VIEWS.map((v) => `${v} (${VIEW_DESCRIPTIONS[v]})`).join('; ')}`,
          type: 'str',
          allowed: [...VIEWS],
          default: 'kerchunk',
        },
      },
      args: { urlpath: `${datasetUrl(base, dataset)}/{{ method }}`, consolidated: true },
      metadata: sourceMetadata(dataset, base),
    };
  }
  return render({ metadata: { version: 1, title, description: 'Datasets served as Zarr by strato' }, sources });
}

/** `/datasets/{id}/catalog.yaml`: the dataset's two views as two sources, `kerchunk` and `zarr`. */
export function datasetIntakeCatalog(dataset: Dataset, base: string): string {
  const sources: Yaml = {};
  for (const view of VIEWS) {
    sources[view] = {
      description: `${describe(dataset)} (${VIEW_DESCRIPTIONS[view]})`,
      driver: 'zarr',
      args: { urlpath: `${datasetUrl(base, dataset)}/${view}`, consolidated: true },
      metadata: sourceMetadata(dataset, base),
    };
  }
  return render({ metadata: { version: 1, title: dataset.entry.title ?? dataset.id }, sources });
}

function datasetUrl(base: string, dataset: Dataset): string {
  return `${base}/datasets/${encodeURIComponent(dataset.id)}`;
}

function describe(dataset: Dataset): string {
  return (dataset.entry.description ?? dataset.entry.title ?? dataset.id).trim();
}

function sourceMetadata(dataset: Dataset, base: string): Yaml {
  const schema = schemaOf(dataset);
  const stac = dataset.entry.stac;
  const keywords = typeof stac === 'object' && stac !== null && !Array.isArray(stac) && Array.isArray(stac.keywords) ? stac.keywords : undefined;
  return {
    ...(dataset.entry.title ? { title: dataset.entry.title } : {}),
    ...(dataset.entry.license ? { license: dataset.entry.license } : {}),
    ...(keywords ? { keywords } : {}),
    dims: { ...schema.dims },
    data_vars: schema.variables.filter((v) => !v.isCoordinate).map((v) => v.name),
    coords: schema.variables.filter((v) => v.isCoordinate).map((v) => v.name),
    stac_item: `${datasetUrl(base, dataset)}/stac`,
    html: `${datasetUrl(base, dataset)}/`,
  };
}

function render(document: Yaml): string {
  return `# intake catalog written by strato: intake.open_catalog(URL)[name].to_dask() (needs intake-xarray for driver "zarr")\n${stringify(document, { lineWidth: 0 })}`;
}
