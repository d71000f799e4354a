/**
 * How deeply a parsed JSON value nests, counted without recursion (so a hostile document cannot
 * overflow the stack here), stopping as soon as `limit` is exceeded. Request bodies and JSON
 * query parameters are checked against a limit before any recursive code (CQL2 parsing, geometry
 * checks, YAML serialisation) walks them.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

/** Deeper than any real STAC search, CQL2 filter, GeoJSON geometry or dataset record nests. */
export const MAX_JSON_DEPTH = 64;
