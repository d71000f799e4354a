import { dapName } from './dap-names.js';
import { attributeNumberText, type DapNumericType } from './dap-types.js';
import type { DapAttribute, DapDataset } from './dataset-model.js';

/**
 * The DAS (DAP 2.0 §7.1.2): one attribute container per variable, global attributes in
 * `NC_GLOBAL` (netCDF-C's name for them), every attribute typed.
 */
export function dasText(dataset: DapDataset): string {
  const lines = ['Attributes {'];
  for (const variable of dataset.variables) container(lines, dapName(variable.name), variable.attributes);
  container(lines, 'NC_GLOBAL', dataset.globalAttributes);
  lines.push('}', '');
  return lines.join('\n');
}

function container(lines: string[], name: string, attributes: readonly DapAttribute[]): void {
  lines.push(`    ${name} {`);
  for (const attribute of attributes) lines.push(`        ${attributeLine(attribute)}`);
  lines.push('    }');
}

/** One attribute line: `Float32 valid_range 150, 350;`, `String units "K";`. */
export function attributeLine(attribute: DapAttribute): string {
  const values =
    attribute.type === 'String' ? attribute.values.map((v) => quoted(String(v))) : attribute.values.map((v) => attributeNumberText(Number(v), attribute.type as DapNumericType));
  return `${attribute.type} ${dapName(attribute.name)} ${values.join(', ')};`;
}

/** A DAS string literal: quotes and backslashes escaped; everything else, UTF-8 included, as is. */
export function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
