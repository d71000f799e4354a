import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetEntry } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import { schemaOf, type VariableSchema } from '../catalog/dataset-schema.js';
import { type DeriveSpec, parseDeriveSpec } from '../catalog/derive-entry.js';
import { coordinateOf, isLatitudeAxis, isLongitudeAxis, isTimeAxis } from '../cf/axes.js';
import { timeCoder } from '../cf/time-units.js';
import { DeriveError } from '../derive/derive-plan.js';
import { openDerived } from '../derive/derived-dataset.js';
import type { Slice } from '../kerchunk/array-values.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { RequestBudget, withBudget } from '../kerchunk/request-budget.js';
import { badRequest, HttpProblem } from '../server/http/problem.js';
import { type NcVariable, writeNetcdf4 } from './netcdf-writer.js';
import type { ProcessDefinition } from './process.js';
import { indexRange, longitudeInterval, parseBbox, parseDatetime } from './subset-selection.js';
import { writeZarrStore } from './zarr-writer.js';

export const NETCDF = 'application/x-netcdf';
export const ZARR = 'application/vnd+zarr';

const INPUTS = new Set(['dataset', 'variables', 'bbox', 'datetime', 'derive']);
const DERIVE_KEYS = new Set(['resample', 'groupby', 'reduce', 'over', 'weights']);

/** `subset`: variables of a dataset within a box and a time interval, as one NetCDF-4 file. */
export const subsetProcess: ProcessDefinition = {
  id: 'subset',
  description: {
    id: 'subset',
    title: 'Subset a dataset',
    description:
      'Variables of a dataset within a longitude/latitude box and a time interval (coordinate values, bounds inclusive, as xarray .sel with slices), written as one NetCDF-4 file: coordinates, bounds, CF attributes and packing as in the source.',
    version: '1.0.0',
    keywords: ['subset', 'netcdf'],
    jobControlOptions: ['sync-execute', 'async-execute', 'dismiss'],
    outputTransmission: ['value', 'reference'],
    inputs: {
      dataset: { title: 'Dataset id', minOccurs: 1, maxOccurs: 1, schema: { type: 'string' } },
      variables: {
        title: 'Variables',
        description: 'Names of the variables (default: every data variable); their coordinates and bounds come along.',
        minOccurs: 0,
        maxOccurs: 1,
        schema: { type: 'array', items: { type: 'string' }, maxItems: 256 },
      },
      bbox: {
        title: 'Bounding box',
        description: "[west, south, east, north] in degrees, in the dataset's longitude convention or -180..180.",
        minOccurs: 0,
        maxOccurs: 1,
        schema: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 },
      },
      derive: {
        title: 'Derive operations',
        description:
          'Applied after the selection, as a catalog `derive:` block: {"resample": {"time": "month"}, "groupby": "time.month", "reduce": "mean", "over": ["lat", "lon"], "weights": "area"}.',
        minOccurs: 0,
        maxOccurs: 1,
        schema: { type: 'object' },
      },
      datetime: {
        title: 'Time interval',
        description: 'RFC 3339 interval "start/end" in UTC, either end ".." for open.',
        minOccurs: 0,
        maxOccurs: 1,
        schema: { type: 'string' },
      },
    },
    outputs: {
      result: {
        title: 'The subset as NetCDF-4',
        description: `A NetCDF-4 file (${NETCDF}, the default) or a Zarr v2 store (${ZARR}: outputs: {result: {format: {mediaType: "${ZARR}"}}}) served below the result's link until the job expires.`,
        schema: {
          oneOf: [
            { type: 'string', contentMediaType: NETCDF, contentEncoding: 'binary' },
            { type: 'object', contentMediaType: ZARR },
          ],
        },
      },
    },
  },
  async prepare(inputs, environment, formats) {
    const format = formats?.get('result') ?? NETCDF;
    if (format !== NETCDF && format !== ZARR) throw badRequest(`the result is ${NETCDF} or ${ZARR}, not "${format.slice(0, 64)}"`);
    for (const name of inputs.keys()) if (!INPUTS.has(name)) throw badRequest(`subset has no input "${name.slice(0, 64)}"; it has ${[...INPUTS].join(', ')}`);
    const id = inputs.get('dataset');
    if (typeof id !== 'string') throw badRequest('"dataset" (a dataset id) is required');
    const dataset = environment.dataset(id);
    if (!dataset) throw new HttpProblem(404, 'Not Found', `no public dataset "${id.slice(0, 100)}"`);
    let schema = schemaOf(dataset);
    const byName = new Map(schema.variables.map((v) => [v.name, v] as const));
    const asked = inputs.get('variables');
    let chosen: VariableSchema[];
    if (asked === undefined) chosen = schema.variables.filter((v) => !v.isCoordinate);
    else {
      if (!Array.isArray(asked) || asked.length === 0 || asked.length > 256 || !asked.every((v) => typeof v === 'string')) {
        throw badRequest('"variables" must be a list of 1..256 variable names');
      }
      chosen = (asked as string[]).map((name) => {
        const found = byName.get(name);
        if (!found) throw badRequest(`dataset "${id}" has no variable "${name.slice(0, 64)}"`);
        return found;
      });
    }
    // Coordinates of every dimension used, and their bounds.
    const included = new Map<string, VariableSchema>();
    const add = (v: VariableSchema): void => {
      if (!included.has(v.name)) included.set(v.name, v);
    };
    chosen.forEach(add);
    for (const v of [...included.values()])
      for (const dim of v.dims) {
        const coordinate = coordinateOf(schema, dim);
        if (coordinate) add(coordinate);
      }
    for (const v of [...included.values()]) {
      const bounds = v.attrs.bounds;
      if (v.isCoordinate && typeof bounds === 'string' && byName.has(bounds)) add(byName.get(bounds) as VariableSchema);
    }
    let values = environment.values(dataset);
    const coordinateValues = new Map<string, number[]>();
    const readAll = async (v: VariableSchema): Promise<number[]> => {
      const array = values.array(v.name);
      if (!array) throw badRequest(`variable "${v.name}" is not numeric`);
      const read = Array.from(await array.read(v.shape.map((n) => ({ start: 0, stop: n, step: 1 }))), Number);
      coordinateValues.set(v.name, read);
      return read;
    };
    const ranges = new Map<string, readonly [number, number]>();
    const bbox = inputs.has('bbox') ? parseBbox(inputs.get('bbox')) : undefined;
    const interval = inputs.has('datetime') ? parseDatetime(inputs.get('datetime')) : undefined;
    const budget = new RequestBudget(environment.budget);
    try {
      await withBudget(budget, async () => {
        for (const dim of new Set([...included.values()].flatMap((v) => v.dims))) {
          const coordinate = coordinateOf(schema, dim);
          if (coordinate?.dims.length !== 1) continue;
          let range: readonly [number, number] | undefined;
          if (bbox && isLatitudeAxis(dim, coordinate)) {
            range = indexRange(await readAll(coordinate), bbox.south, bbox.north);
          } else if (bbox && isLongitudeAxis(dim, coordinate)) {
            const lons = await readAll(coordinate);
            const span = longitudeInterval(bbox, Math.max(...lons));
            if (!span) throw badRequest('"bbox" crosses the dataset\'s longitude seam: ask for the two parts separately');
            range = indexRange(lons, span[0], span[1]);
          } else if (interval && isTimeAxis(dim, coordinate)) {
            const coder = timeCoder(coordinate.attrs.units, coordinate.attrs.calendar);
            if (!coder) throw badRequest(`the time coordinate "${dim}" has units strato cannot decode`);
            const low = interval.start ? coder.value(interval.start) : -Infinity;
            const high = interval.end ? coder.value(interval.end) : Infinity;
            range = indexRange(await readAll(coordinate), low, high);
          } else continue;
          if (!range) throw badRequest(`the request selects nothing along "${dim}"`);
          ranges.set(dim, range);
        }
      });
    } finally {
      budget.close();
    }
    const deriveInput = inputs.get('derive');
    if (deriveInput !== undefined) {
      if (deriveInput === null || typeof deriveInput !== 'object' || Array.isArray(deriveInput)) throw badRequest('"derive" is an object of derive operations');
      const block: Record<string, JsonValue> = Object.create(null);
      for (const [key, value] of Object.entries(deriveInput)) {
        if (!DERIVE_KEYS.has(key)) throw badRequest(`"derive": no operation "${key.slice(0, 64)}"; it takes ${[...DERIVE_KEYS].join(', ')}`);
        block[key] = value;
      }
      // the selection as coordinate values, so derive selects exactly what subset would
      const select: Record<string, JsonValue> = Object.create(null);
      for (const [dim, [start, stop]] of ranges) {
        const coords = coordinateValues.get(coordinateOf(schema, dim)?.name ?? dim) as number[];
        select[dim] = [coords[start] as number, coords[stop - 1] as number];
      }
      const spec = parseDeriveSpec({
        ...block,
        from: dataset.id,
        select,
        ...(asked === undefined ? {} : { variables: chosen.filter((v) => !v.isCoordinate).map((v) => v.name) }),
      });
      if (typeof spec === 'string') throw badRequest(`"derive": ${spec}`);
      const entry: DatasetEntry & { derive: DeriveSpec } = {
        id: `${dataset.id}.subset.${createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16)}`,
        refs: '',
        refsLocation: '',
        derive: spec,
        fields: Object.create(null),
      };
      let derived: Dataset;
      try {
        derived = await openDerived(entry, dataset, values, environment.derivedCache);
      } catch (error) {
        if (error instanceof DeriveError) throw badRequest(`"derive": ${error.message}`);
        throw error;
      }
      schema = schemaOf(derived);
      values = environment.values(derived);
      included.clear();
      for (const v of schema.variables) included.set(v.name, v);
      ranges.clear();
    }
    const sizeOf = (dim: string, full: number): number => {
      const range = ranges.get(dim);
      return range ? range[1] - range[0] : full;
    };
    let bytes = 0;
    for (const v of included.values()) bytes += v.dims.reduce((n, dim, i) => n * sizeOf(dim, v.shape[i] as number), 1) * Number(v.dtype.slice(2));
    if (bytes > environment.maxOutputBytes) {
      throw new HttpProblem(413, 'Content Too Large', `the subset would be ${bytes} bytes; at most ${environment.maxOutputBytes} are written (narrow bbox, datetime or variables)`);
    }
    const dims: Array<{ name: string; size: number }> = [];
    for (const v of included.values())
      v.dims.forEach((dim, i) => {
        if (!dims.some((d) => d.name === dim)) dims.push({ name: dim, size: sizeOf(dim, v.shape[i] as number) });
      });
    return {
      async run(context) {
        const variables: NcVariable[] = [];
        const list = [...included.values()];
        const work = new RequestBudget(environment.budget);
        try {
          await withBudget(work, async () => {
            for (const [index, v] of list.entries()) {
              const array = values.array(v.name);
              if (!array) throw badRequest(`variable "${v.name}" is not numeric`);
              const selection: Slice[] = v.dims.map((dim, i) => {
                const range = ranges.get(dim) ?? [0, v.shape[i] as number];
                return { start: range[0], stop: range[1], step: 1 };
              });
              const data = await array.read(selection);
              const attrs: Record<string, JsonValue> = { ...v.attrs };
              if (!v.isCoordinate && !Object.hasOwn(attrs, '_FillValue') && array.fillValue !== undefined) {
                attrs._FillValue = typeof array.fillValue === 'bigint' ? Number(array.fillValue) : Number.isNaN(array.fillValue) ? 'NaN' : array.fillValue;
              }
              variables.push({ name: v.name, dims: v.dims, dtype: v.dtype, data, attrs, chunks: v.chunks });
              context.progress(Math.round(((index + 1) / (list.length + 1)) * 100));
            }
          });
        } finally {
          work.close();
        }
        if (format === ZARR) {
          const size = await writeZarrStore(join(context.dir, 'result.zarr'), { dims, variables, attrs: schema.attrs });
          return { files: [{ output: 'result', file: 'result.zarr', mediaType: ZARR, bytes: size }] };
        }
        const file = join(context.dir, 'result.nc');
        await writeNetcdf4(file, { dims, variables, attrs: schema.attrs });
        const { size } = await stat(file);
        return { files: [{ output: 'result', file: 'result.nc', mediaType: NETCDF, bytes: size }] };
      },
    };
  },
};
