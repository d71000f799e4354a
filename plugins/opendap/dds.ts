import { sliceLength } from '../../kerchunk/array-values.js';
import { dapName } from './dap-names.js';
import type { FieldSelection, SelectedVariable } from './projection.js';

/**
 * The DDS (DAP 2.0 §7.1.1) of the selected variables, sizes as constrained: Arrays with named
 * dimensions, Grids with their ARRAY and MAPS parts, partial Grids as Structures.
 */
export function ddsText(datasetName: string, selected: readonly SelectedVariable[]): string {
  const lines = ['Dataset {'];
  for (const { variable, form, fields } of selected) {
    if (form === 'array') {
      lines.push(`    ${declaration(fields[0] as FieldSelection)}`);
    } else if (form === 'grid') {
      const [array, ...maps] = fields as [FieldSelection, ...FieldSelection[]];
      lines.push('    Grid {', '      ARRAY:', `        ${declaration(array)}`, '      MAPS:');
      for (const map of maps) lines.push(`        ${declaration(map)}`);
      lines.push(`    } ${dapName(variable.name)};`);
    } else {
      lines.push('    Structure {');
      for (const field of fields) lines.push(`        ${declaration(field)}`);
      lines.push(`    } ${dapName(variable.name)};`);
    }
  }
  lines.push(`} ${dapName(datasetName)};`, '');
  return lines.join('\n');
}

/** `Float32 tas[time = 3][lat = 6][lon = 8];` */
function declaration({ array, slices }: FieldSelection): string {
  const dims = array.dims.map((dim, i) => `[${dapName(dim.name)} = ${sliceLength(slices[i] ?? { start: 0, stop: dim.size, step: 1 })}]`);
  return `${array.type} ${dapName(array.name)}${dims.join('')};`;
}
