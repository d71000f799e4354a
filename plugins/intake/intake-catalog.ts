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

/** Suffix of the source that needs no plugin: intake's built-in `zarr_cat` driver. */
export const ARRAYS_SUFFIX = '_arrays';

const NEEDS =
  'Sources with driver "zarr" need the intake-xarray package (not packaged by Debian 12: pip install intake-xarray) and give an xarray Dataset. ' +
  `Sources named ..${ARRAYS_SUFFIX} use intake's built-in zarr_cat driver (any intake ≥ 0.6): a catalog of the dataset's arrays as dask arrays.`;

/**
 * `/intake.yaml`: an intake v1 catalog with two sources per dataset, whose `method` parameter
 * picks the view (urlpath `<base>/datasets/<id>/{{ method }}`):
 *
 * - `<id>`: `driver: zarr` (intake-xarray), an xarray Dataset;
 * - `<id>_arrays`: `driver: zarr_cat`, built into intake itself, so it opens where intake-xarray
 *   is missing (Debian 12): a catalog of the arrays, each `.to_dask()` a dask array.
 *
 * Every description says what it needs and gives the xarray line that opens the same URL without
 * intake. An `_arrays` name that is also a dataset id is left to the dataset.
 */
export function intakeCatalog(datasets: readonly Dataset[], base: string, title: string): string {
  const sources: Yaml = {};
  const ids = new Set(datasets.map((d) => d.id));
  const method = {
    description: `Zarr view to open: ${VIEWS.map((v) => `${v} (${VIEW_DESCRIPTIONS[v]})`).join('; ')}`,
    type: 'str',
    allowed: [...VIEWS],
    default: 'kerchunk',
  };
  for (const dataset of [...datasets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const url = datasetUrl(base, dataset);
    const arrays = `${dataset.id}${ARRAYS_SUFFIX}`;
    const hasArrays = !ids.has(arrays);
    setOwn(sources, dataset.id, {
      description: `${describe(dataset)}\n${needsXarray(`${url}/kerchunk`, hasArrays ? arrays : undefined)}`,
      driver: 'zarr',
      parameters: { method },
      args: { urlpath: `${url}/{{ method }}`, consolidated: true },
      metadata: sourceMetadata(dataset, base, `${url}/kerchunk`),
    });
    if (hasArrays) {
      setOwn(sources, arrays, {
        description: `${describe(dataset)}\n${arraysNote(arrays)}`,
        driver: 'zarr_cat',
        parameters: { method },
        args: { urlpath: `${url}/{{ method }}`, consolidated: true },
        metadata: sourceMetadata(dataset, base, `${url}/kerchunk`),
      });
    }
  }
  return render({ description: `Datasets served as Zarr by strato. ${NEEDS}`, metadata: { version: 1, title }, sources });
}

/**
 * `/datasets/{id}/catalog.yaml`: the dataset's two views as sources `kerchunk` and `zarr`
 * (driver zarr, intake-xarray), and `kerchunk_arrays`, `zarr_arrays` (intake's own zarr_cat).
 */
export function datasetIntakeCatalog(dataset: Dataset, base: string): string {
  const sources: Yaml = {};
  for (const view of VIEWS) {
    const url = `${datasetUrl(base, dataset)}/${view}`;
    sources[view] = {
      description: `${describe(dataset)} (${VIEW_DESCRIPTIONS[view]})\n${needsXarray(url, `${view}${ARRAYS_SUFFIX}`)}`,
      driver: 'zarr',
      args: { urlpath: url, consolidated: true },
      metadata: sourceMetadata(dataset, base, url),
    };
  }
  for (const view of VIEWS) {
    const url = `${datasetUrl(base, dataset)}/${view}`;
    sources[`${view}${ARRAYS_SUFFIX}`] = {
      description: `${describe(dataset)} (${VIEW_DESCRIPTIONS[view]})\n${arraysNote(`${view}${ARRAYS_SUFFIX}`)}`,
      driver: 'zarr_cat',
      args: { urlpath: url, consolidated: true },
      metadata: sourceMetadata(dataset, base, url),
    };
  }
  return render({ description: NEEDS, metadata: { version: 1, title: dataset.entry.title ?? dataset.id }, sources });
}

function xarrayLine(url: string): string {
  return `xarray.open_dataset("${url}", engine="zarr", consolidated=True)`;
}

function needsXarray(url: string, arrays: string | undefined): string {
  const fallback = arrays ? `, or the source ${arrays} (no plugin needed)` : '';
  return `Needs intake-xarray (driver zarr; Debian 12 does not package it). Without it: ${xarrayLine(url)}${fallback}.`;
}

function arraysNote(name: string): string {
  return `The arrays as dask arrays through intake's built-in zarr_cat driver (no plugin needed): cat["${name}"]["VARIABLE"].to_dask().`;
}

function datasetUrl(base: string, dataset: Dataset): string {
  return `${base}/datasets/${encodeURIComponent(dataset.id)}`;
}

function describe(dataset: Dataset): string {
  return (dataset.entry.description ?? dataset.entry.title ?? dataset.id).trim();
}

function sourceMetadata(dataset: Dataset, base: string, url: string): Yaml {
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
    xarray: xarrayLine(url),
    stac_item: `${datasetUrl(base, dataset)}/stac`,
    html: `${datasetUrl(base, dataset)}/`,
  };
}

function render(document: Yaml): string {
  const header = [
    '# intake catalog written by strato: cat = intake.open_catalog(URL)',
    '#   cat[NAME].to_dask()             driver zarr: an xarray Dataset; needs intake-xarray (pip install intake-xarray; not in Debian 12)',
    `#   cat[NAME${ARRAYS_SUFFIX}][VAR].to_dask()  driver zarr_cat, built into intake: one dask array per variable`,
    '#   without intake: xarray.open_dataset(URL_OF_THE_VIEW, engine="zarr") (each source\'s metadata.xarray)',
  ];
  return `${header.join('\n')}\n${stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** Sets an own property, also for names such as `__proto__` (dataset ids are user input). */
function setOwn(target: Yaml, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
