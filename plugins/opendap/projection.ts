import type { Slice } from '../../kerchunk/array-values.js';
import type { ConstraintExpression, Hyperslab, PathComponent } from './constraint.js';
import { DapError } from './dap-error.js';
import type { DapArray, DapDataset, DapVariable } from './dataset-model.js';

/** One array of the response and the part of it that is sent. */
export interface FieldSelection {
  readonly array: DapArray;
  /** One slice per dimension (Python-style, stop exclusive). */
  readonly slices: readonly Slice[];
}

/**
 * A top-level variable of a constrained response. `array`: a plain Array (or the one projected
 * field of a Grid); `grid`: the whole Grid, maps cut like the array's dimensions; `structure`: a
 * Grid of which some fields are projected, or whose maps are cut otherwise (libdap's rule).
 */
export interface SelectedVariable {
  readonly variable: DapVariable;
  readonly form: 'array' | 'grid' | 'structure';
  /** `array`: one field; `grid`: the array then every map; `structure`: projected fields in Grid order. */
  readonly fields: readonly FieldSelection[];
}

interface Pending {
  array?: readonly Slice[];
  maps: Array<readonly Slice[] | undefined>;
}

/** The variables a constraint expression projects, in DDS order (the order of the response). */
export function selectVariables(dataset: DapDataset, constraint: ConstraintExpression): SelectedVariable[] {
  const pending = new Map<DapVariable, Pending>();
  const byName = new Map(dataset.variables.map((v) => [v.name, v]));
  const entry = (variable: DapVariable): Pending => {
    let found = pending.get(variable);
    if (!found) {
      found = { maps: (variable.maps ?? []).map(() => undefined) };
      pending.set(variable, found);
    }
    return found;
  };
  if (constraint.projections.length === 0) {
    for (const variable of dataset.variables) {
      const whole = wholeSlices(variable);
      entry(variable).array = whole;
      entry(variable).maps = (variable.maps ?? []).map((_, i) => [whole[i] as Slice]);
    }
  }
  for (const { path } of constraint.projections) {
    const [head, field, ...rest] = path as [PathComponent, PathComponent | undefined, ...PathComponent[]];
    const variable = byName.get(head.name);
    if (!variable) throw new DapError(404, `no variable "${head.name}" in dataset "${dataset.name}"`);
    if (rest.length > 0) throw new DapError(400, `"${path.map((p) => p.name).join('.')}" names no field of "${variable.name}"`);
    if (!field) {
      const slices = slicesOf(variable, head.hyperslabs);
      const state = entry(variable);
      state.array = slices;
      state.maps = (variable.maps ?? []).map((_, i) => [slices[i] as Slice]);
      continue;
    }
    if (!variable.maps) throw new DapError(400, `"${variable.name}" is an Array, not a Grid: it has no field "${field.name}"`);
    if (head.hyperslabs.length > 0) {
      throw new DapError(400, `put the hyperslab on the Grid's field, not on the Grid: "${variable.name}.${field.name}[...]"`);
    }
    const state = entry(variable);
    if (field.name === variable.name) {
      state.array = slicesOf(variable, field.hyperslabs);
      continue;
    }
    const mapIndex = variable.maps.findIndex((m) => m.name === field.name);
    const map = variable.maps[mapIndex];
    if (!map) throw new DapError(400, `Grid "${variable.name}" has no field "${field.name}"`);
    state.maps[mapIndex] = slicesOf(map, field.hyperslabs);
  }
  const selected: SelectedVariable[] = [];
  for (const variable of dataset.variables) {
    const state = pending.get(variable);
    if (state) selected.push(resolve(variable, state));
  }
  return selected;
}

function resolve(variable: DapVariable, state: Pending): SelectedVariable {
  const maps = variable.maps;
  if (!maps) return { variable, form: 'array', fields: [{ array: variable, slices: state.array ?? wholeSlices(variable) }] };
  const fields: FieldSelection[] = [];
  if (state.array) fields.push({ array: variable, slices: state.array });
  maps.forEach((map, i) => {
    const slices = state.maps[i];
    if (slices) fields.push({ array: map, slices });
  });
  const arraySlices = state.array;
  const isGrid = arraySlices !== undefined && maps.every((_, i) => state.maps[i] !== undefined && sameSlice(state.maps[i]?.[0], arraySlices[i]));
  if (isGrid) return { variable, form: 'grid', fields };
  return { variable, form: fields.length === 1 ? 'array' : 'structure', fields };
}

function sameSlice(a: Slice | undefined, b: Slice | undefined): boolean {
  return a !== undefined && b !== undefined && a.start === b.start && a.stop === b.stop && a.step === b.step;
}

export function wholeSlices(array: DapArray): Slice[] {
  return array.dims.map((d) => ({ start: 0, stop: d.size, step: 1 }));
}

/** Hyperslabs (fewer than the rank: the rest whole) as slices, checked against the shape. */
export function slicesOf(array: DapArray, hyperslabs: readonly Hyperslab[]): Slice[] {
  if (hyperslabs.length > array.dims.length) {
    throw new DapError(400, `"${array.name}" has ${array.dims.length} dimension(s), the constraint gives ${hyperslabs.length} hyperslab(s)`);
  }
  return array.dims.map((dim, i) => {
    const slab = hyperslabs[i];
    if (!slab) return { start: 0, stop: dim.size, step: 1 };
    if (slab.stop >= dim.size) {
      throw new DapError(400, `hyperslab [${slab.start}:${slab.stride}:${slab.stop}] of "${array.name}" is outside dimension "${dim.name}" (indices 0 to ${dim.size - 1})`);
    }
    return { start: slab.start, stop: slab.stop + 1, step: slab.stride };
  });
}
