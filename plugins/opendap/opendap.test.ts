import { describe, expect, it } from 'vitest';
import { datasetSchema } from '../../catalog/dataset-schema.js';
import type { ArrayValues, NumericArray, Slice } from '../../kerchunk/array-values.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { parseConstraint } from './constraint.js';
import { DapError } from './dap-error.js';
import { dasText } from './das.js';
import { type DapDataset, dapDataset } from './dataset-model.js';
import { ddsText } from './dds.js';
import { dodsSize, dodsStream } from './dods.js';
import { MemoryArrayValues, memoryDatasetValues } from './memory-values.js';
import { selectVariables } from './projection.js';

/**
 * DDS, DAS and `.dods` of a small in-memory dataset shaped like the NetCDF4 fixtures: CF time,
 * float32 field, packed int16 with fill, int8 flags, int64 counts, a scalar, bounds without a
 * coordinate variable, and a string variable DAP2 cannot carry.
 */
const NT = 4;
const NY = 3;
const NX = 2;

function sample(): { model: DapDataset; arrays: Map<string, MemoryArrayValues> } {
  const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  const bigRange = (n: number, f: (i: number) => bigint) => Array.from({ length: n }, (_, i) => f(i));
  const specs: Array<{ name: string; dtype: string; dims: string[]; data: NumericArray; chunks?: number[]; fill?: number | bigint; attrs: string }> = [
    {
      name: 'time',
      dtype: '<f8',
      dims: ['time'],
      data: new Float64Array(range(NT, (i) => i + 0.5)),
      attrs: '{"units": "days since 2000-01-01", "calendar": "standard", "axis": "T"}',
    },
    { name: 'lat', dtype: '<f4', dims: ['lat'], data: new Float32Array([-30, 0, 30]), fill: 9.969209968386869e36, attrs: '{"units": "degrees_north"}' },
    { name: 'lon', dtype: '<f4', dims: ['lon'], data: new Float32Array([0, 180]), attrs: '{"units": "degrees_east"}' },
    {
      name: 'tas',
      dtype: '<f4',
      dims: ['time', 'lat', 'lon'],
      data: new Float32Array(range(NT * NY * NX, (i) => 250 + i / 4)),
      chunks: [3, 2, 2],
      fill: NaN,
      attrs: '{"units": "K", "valid_range": [150.0, 350.0], "note": "say \\"hi\\" \\\\ é"}',
    },
    {
      name: 'ps',
      dtype: '<i2',
      dims: ['time', 'lat', 'lon'],
      data: new Int16Array(range(NT * NY * NX, (i) => (i % 5 === 0 ? -32767 : i - 10))),
      fill: -32767,
      attrs: '{"scale_factor": 2.0, "add_offset": 100000.0, "valid_min": -100}',
    },
    { name: 'land', dtype: '|i1', dims: ['lat', 'lon'], data: new Int8Array([-1, 0, 1, 2, 3, -1]), fill: -1, attrs: '{"flag_values": [0, 1, 2, 3]}' },
    { name: 'samples', dtype: '<i8', dims: ['time'], data: new BigInt64Array(bigRange(NT, (i) => BigInt(i) * 10_000_000_000n + 7n)), fill: -9999n, attrs: '{}' },
    { name: 'height', dtype: '<f8', dims: [], data: new Float64Array([2]), attrs: '{"units": "m", "scale": 1.0000000116860974e-07}' },
    { name: 'time_bnds', dtype: '<f8', dims: ['time', 'nv'], data: new Float64Array(range(NT * 2, (i) => i / 2)), attrs: '{}' },
    { name: 'label', dtype: '|S4', dims: ['time'], data: new Uint8Array(NT * 4), attrs: '{}' },
  ];
  const metadata = new Map<string, JsonValue>();
  const metadataText = new Map<string, string>();
  const arrays = new Map<string, MemoryArrayValues>();
  const globals = '{"title": "sample", "realization": 1, "grid_spacing_deg": [30.0, 45.0], "flag": true, "nested": {"a": 1}}';
  metadata.set('.zattrs', JSON.parse(globals) as JsonValue);
  metadataText.set('.zattrs', globals);
  for (const spec of specs) {
    const shape = spec.dims.map((d) => ({ time: NT, lat: NY, lon: NX, nv: 2 })[d] as number);
    const attrs = `{"_ARRAY_DIMENSIONS": ${JSON.stringify(spec.dims)}, ${spec.attrs.slice(1)}`.replace(', }', '}');
    metadata.set(`${spec.name}/.zarray`, {
      zarr_format: 2,
      shape,
      chunks: spec.chunks ?? shape,
      dtype: spec.dtype,
      compressor: null,
      filters: null,
      fill_value: null,
      order: 'C',
    });
    metadata.set(`${spec.name}/.zattrs`, JSON.parse(attrs) as JsonValue);
    metadataText.set(`${spec.name}/.zattrs`, attrs);
    if (!spec.dtype.includes('S')) {
      arrays.set(spec.name, new MemoryArrayValues(spec.name, spec.dtype, shape, spec.data, spec.chunks ?? shape, spec.fill));
    }
  }
  const model = dapDataset({
    name: 'sample',
    schema: datasetSchema(metadata),
    values: memoryDatasetValues([...arrays.values()]),
    metadataText,
  });
  return { model, arrays };
}

describe('the DAP model of a dataset', () => {
  const { model } = sample();
  const variable = (name: string) => model.variables.find((v) => v.name === name);
  const attribute = (name: string, attr: string) => variable(name)?.attributes.find((a) => a.name === attr);

  it('serves numeric variables, Grids where every dimension has a coordinate variable', () => {
    expect(model.variables.map((v) => [v.name, v.type, v.maps?.map((m) => m.name) ?? null])).toEqual([
      ['time', 'Float64', null],
      ['lat', 'Float32', null],
      ['lon', 'Float32', null],
      ['tas', 'Float32', ['time', 'lat', 'lon']],
      ['ps', 'Int16', ['time', 'lat', 'lon']],
      ['land', 'Byte', ['lat', 'lon']],
      ['samples', 'Float64', ['time']],
      ['height', 'Float64', null],
      ['time_bnds', 'Float64', null],
    ]);
    expect(model.leftOut).toEqual([{ name: 'label', reason: 'dtype |S4 has no DAP2 type' }]);
  });

  it('types attributes: variable-typed CF attributes as the variable, others by their JSON form', () => {
    expect(attribute('tas', 'valid_range')).toEqual({ name: 'valid_range', type: 'Float32', values: [150, 350] });
    expect(attribute('ps', 'scale_factor')).toEqual({ name: 'scale_factor', type: 'Float64', values: [2] });
    expect(attribute('ps', 'valid_min')).toEqual({ name: 'valid_min', type: 'Int16', values: [-100] });
    expect(attribute('height', 'scale')).toMatchObject({ type: 'Float32' });
    expect(model.globalAttributes).toEqual([
      { name: 'title', type: 'String', values: ['sample'] },
      { name: 'realization', type: 'Int32', values: [1] },
      { name: 'grid_spacing_deg', type: 'Float64', values: [30, 45] },
      { name: 'flag', type: 'Byte', values: [1] },
      { name: 'nested', type: 'String', values: ['{"a": 1}'] },
    ]);
  });

  it('adds _FillValue from the Zarr fill value, typed as the variable', () => {
    expect(attribute('ps', '_FillValue')).toEqual({ name: '_FillValue', type: 'Int16', values: [-32767] });
    expect(attribute('tas', '_FillValue')).toMatchObject({ type: 'Float32', values: [NaN] });
    expect(attribute('samples', '_FillValue')).toEqual({ name: '_FillValue', type: 'Float64', values: [-9999] });
    expect(attribute('lat', '_FillValue')).toBeUndefined(); // netCDF's default fill: clients assume it anyway
    expect(attribute('time', '_FillValue')).toBeUndefined(); // no fill value
  });

  it('sends int8 as Byte with the same bits, attributes included', () => {
    expect(attribute('land', '_FillValue')).toEqual({ name: '_FillValue', type: 'Byte', values: [255] });
    expect(attribute('land', 'flag_values')).toEqual({ name: 'flag_values', type: 'Byte', values: [0, 1, 2, 3] });
  });

  it('notes conversions in an attribute', () => {
    expect(attribute('samples', 'strato_dap_conversion')?.values[0]).toMatch(/int64 served as Float64/);
  });
});

describe('DAS', () => {
  const das = dasText(sample().model);
  it('has one container per variable and NC_GLOBAL, typed, strings escaped', () => {
    expect(das.startsWith('Attributes {\n    time {\n        String units "days since 2000-01-01";\n')).toBe(true);
    expect(das).toContain('        Float32 valid_range 150, 350;\n');
    expect(das).toContain('        String note "say \\"hi\\" \\\\ é";\n');
    expect(das).toContain('    ps {\n        Int16 _FillValue -32767;\n        Float64 scale_factor 2;\n        Float64 add_offset 100000;\n');
    expect(das).toContain('        Float32 _FillValue NaN;\n');
    expect(das).toContain('    NC_GLOBAL {\n        String title "sample";\n        Int32 realization 1;\n        Float64 grid_spacing_deg 30, 45;\n');
    expect(das.endsWith('    }\n}\n')).toBe(true);
  });
});

describe('DDS and projections', () => {
  const { model } = sample();
  const dds = (ce: string) => ddsText(model.name, selectVariables(model, parseConstraint(ce)));

  it('describes the whole dataset', () => {
    const text = dds('');
    expect(text).toContain('    Float64 time[time = 4];\n');
    expect(text).toContain(
      '    Grid {\n      ARRAY:\n        Float32 tas[time = 4][lat = 3][lon = 2];\n      MAPS:\n        Float64 time[time = 4];\n        Float32 lat[lat = 3];\n        Float32 lon[lon = 2];\n    } tas;\n',
    );
    expect(text).toContain('    Float64 height;\n');
    expect(text).toContain('    Float64 time_bnds[time = 4][nv = 2];\n');
    expect(text).not.toContain('label');
    expect(text.endsWith('} sample;\n')).toBe(true);
  });

  it('cuts a Grid and its maps alike when the Grid is projected', () => {
    expect(dds('tas[1:2][0:2:2][1]')).toBe(
      'Dataset {\n    Grid {\n      ARRAY:\n        Float32 tas[time = 2][lat = 2][lon = 1];\n      MAPS:\n        Float64 time[time = 2];\n        Float32 lat[lat = 2];\n        Float32 lon[lon = 1];\n    } tas;\n} sample;\n',
    );
  });

  it('serves one Grid field as an Array and several as a Structure', () => {
    expect(dds('tas.tas[0][0][0]')).toBe('Dataset {\n    Float32 tas[time = 1][lat = 1][lon = 1];\n} sample;\n');
    expect(dds('tas.lat[1:2]')).toBe('Dataset {\n    Float32 lat[lat = 2];\n} sample;\n');
    expect(dds('ps.ps,ps.lon')).toBe('Dataset {\n    Structure {\n        Int16 ps[time = 4][lat = 3][lon = 2];\n        Float32 lon[lon = 2];\n    } ps;\n} sample;\n');
  });

  it('lists projected variables in dataset order, whatever the constraint order', () => {
    expect(dds('lon,time[0:1]').split('\n').slice(1, 3)).toEqual(['    Float64 time[time = 2];', '    Float32 lon[lon = 2];']);
  });

  it('takes fewer hyperslabs than dimensions as whole trailing dimensions', () => {
    expect(dds('time_bnds[1:3]')).toContain('Float64 time_bnds[time = 3][nv = 2];');
  });

  it.each([
    ['nope', 404, /no variable "nope"/],
    ['tas[0:4]', 400, /outside dimension "time"/],
    ['tas[0][0][0][0]', 400, /3 dimension\(s\)/],
    ['height[0]', 400, /0 dimension/],
    ['time.time', 400, /is an Array, not a Grid/],
    ['tas.nv', 400, /has no field "nv"/],
    ['tas[0].tas', 400, /hyperslab on the Grid's field/],
    ['tas.tas.tas', 400, /names no field/],
  ])('refuses %s', (ce, status, message) => {
    let caught: unknown;
    try {
      dds(ce);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DapError);
    expect((caught as DapError).status).toBe(status);
    expect((caught as DapError).message).toMatch(message);
  });
});

/** A `.dods` body decoded: the DDS text and a reader of the XDR part. */
class DodsReader {
  readonly dds: string;
  private offset: number;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    const marker = Buffer.from(bytes).indexOf('\nData:\n');
    this.dds = Buffer.from(bytes.subarray(0, marker + 1)).toString('utf8');
    this.offset = marker + '\nData:\n'.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  array(type: 'Float32' | 'Float64' | 'Int16' | 'Byte' | 'Int32'): number[] {
    const n = this.view.getUint32(this.offset);
    expect(this.view.getUint32(this.offset + 4)).toBe(n);
    this.offset += 8;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.scalar(type, true));
    if (type === 'Byte') this.offset += (4 - (n % 4)) % 4;
    return out;
  }
  scalar(type: string, inArray = false): number {
    const at = this.offset;
    if (type === 'Byte') {
      this.offset += inArray ? 1 : 4;
      return this.view.getUint8(inArray ? at : at + 3);
    }
    this.offset += type === 'Float64' ? 8 : 4;
    if (type === 'Float64') return this.view.getFloat64(at);
    if (type === 'Float32') return this.view.getFloat32(at);
    return this.view.getInt32(at);
  }
  get done(): boolean {
    return this.offset === this.bytes.length;
  }
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function dods(model: DapDataset, ce: string, pieceBytes = 1 << 20) {
  const selected = selectVariables(model, parseConstraint(ce));
  const dds = ddsText(model.name, selected);
  const size = dodsSize(Buffer.byteLength(dds), selected);
  const bytes = await collect(await dodsStream(dds, selected, { pieceBytes, readAhead: 2 }));
  expect(bytes.length).toBe(size);
  return new DodsReader(bytes);
}

/** Expected values of a C-order array of the given shape under a selection. */
function pick(data: ArrayLike<number>, shape: number[], slices: Slice[]): number[] {
  const out: number[] = [];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((n, s) => n * s, 1));
  const walk = (dim: number, offset: number) => {
    if (dim === shape.length) return void out.push(data[offset] as number);
    const s = slices[dim] as Slice;
    for (let i = s.start; i < s.stop; i += s.step) walk(dim + 1, offset + i * (strides[dim] as number));
  };
  walk(0, 0);
  return out;
}

describe('.dods', () => {
  it('sends a Grid: the array, then each map, cut alike', async () => {
    const { model, arrays } = sample();
    const reader = await dods(model, 'tas[1:2:3][0:2][1]');
    expect(reader.dds).toContain('Float32 tas[time = 2][lat = 3][lon = 1];');
    const tas = await (arrays.get('tas') as ArrayValues).read([
      { start: 0, stop: NT, step: 1 },
      { start: 0, stop: NY, step: 1 },
      { start: 0, stop: NX, step: 1 },
    ]);
    expect(reader.array('Float32')).toEqual(
      pick(
        tas as Float32Array,
        [NT, NY, NX],
        [
          { start: 1, stop: 4, step: 2 },
          { start: 0, stop: 3, step: 1 },
          { start: 1, stop: 2, step: 1 },
        ],
      ),
    );
    expect(reader.array('Float64')).toEqual([1.5, 3.5]);
    expect(reader.array('Float32')).toEqual([-30, 0, 30]);
    expect(reader.array('Float32')).toEqual([180]);
    expect(reader.done).toBe(true);
  });

  it('sends Int16 widened, int8 as padded bytes, int64 as Float64 and scalars bare', async () => {
    const { model } = sample();
    const reader = await dods(model, 'ps.ps[0][0:1][0:1],land.land,samples.samples,height');
    expect(reader.array('Int16')).toEqual([-32767, -9, -8, -7]);
    expect(reader.array('Byte')).toEqual([255, 0, 1, 2, 3, 255]);
    expect(reader.array('Float64')).toEqual([7, 10_000_000_007, 20_000_000_007, 30_000_000_007]);
    expect(reader.scalar('Float64')).toBe(2);
    expect(reader.done).toBe(true);
  });

  it('reads big requests piece by piece and still sends every value in order', async () => {
    const { model, arrays } = sample();
    const tas = arrays.get('tas') as MemoryArrayValues;
    const reader = await dods(model, 'tas.tas', 16);
    expect(reader.array('Float32')).toEqual(Array.from({ length: NT * NY * NX }, (_, i) => 250 + i / 4));
    expect(tas.reads.length).toBeGreaterThan(3);
  });

  it('sends the whole dataset without a constraint', async () => {
    const { model } = sample();
    const reader = await dods(model, '');
    expect(reader.dds).toBe(ddsText(model.name, selectVariables(model, parseConstraint(''))));
  });

  it('fails before answering when the first read fails, and stops reading when cancelled', async () => {
    const { model, arrays } = sample();
    const failing = arrays.get('tas') as MemoryArrayValues;
    failing.read = async () => {
      throw new Error('source down');
    };
    const selected = selectVariables(model, parseConstraint('tas'));
    await expect(dodsStream('DDS\n', selected, { pieceBytes: 8, readAhead: 1 })).rejects.toThrow('source down');

    const fresh = sample();
    const signals: AbortSignal[] = [];
    const lon = fresh.arrays.get('tas') as MemoryArrayValues;
    const original = lon.read.bind(lon);
    lon.read = (selection, signal) => {
      if (signal) signals.push(signal);
      return original(selection, signal);
    };
    const errors: unknown[] = [];
    const stream = await dodsStream('DDS\n', selectVariables(fresh.model, parseConstraint('tas.tas')), {
      pieceBytes: 8,
      readAhead: 1,
      onError: (e) => errors.push(e),
    });
    const readerOfStream = stream.getReader();
    await readerOfStream.read();
    const pending = readerOfStream.read();
    await readerOfStream.cancel();
    await pending;
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('reports a failure in the middle of a response and ends the stream with an error', async () => {
    const { model, arrays } = sample();
    const tas = arrays.get('tas') as MemoryArrayValues;
    const original = tas.read.bind(tas);
    let calls = 0;
    tas.read = (selection, signal) => (++calls > 2 ? Promise.reject(new Error('lost')) : original(selection, signal));
    const errors: unknown[] = [];
    const selected = selectVariables(model, parseConstraint('tas.tas'));
    const stream = await dodsStream('DDS\n', selected, { pieceBytes: 16, readAhead: 0, onError: (e) => errors.push(e) });
    await expect(collect(stream)).rejects.toThrow('lost');
    expect(errors).toHaveLength(1);
  });
});
