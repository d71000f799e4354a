/** One route of the running app. */
export interface AppRoute {
  readonly method: string;
  /** OpenAPI path template ('/datasets/{id}/kerchunk/{key}'). */
  readonly path: string;
  /** The plugin that serves it. */
  readonly plugin: string;
}

/**
 * A hono route path as an OpenAPI path template: `:name` and `:name{regex}` become `{name}`, a
 * trailing `*` becomes `{key}`; a trailing slash is dropped (the app is not strict about it).
 */
export function openApiPath(honoPath: string): string {
  const path = honoPath
    .replace(/:([A-Za-z_][A-Za-z0-9_]*)(\{(?:[^{}]|\{[^{}]*\})*\})?\??/g, '{$1}')
    .replace(/\/\*$/, '/{key}')
    .replace(/\*/g, '{path}');
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Joins the mount point of a dataset plugin and a route of its sub-app, as hono does. */
export function datasetRoutePath(prefix: string, subPath: string): string {
  const mount = prefix ? `/datasets/:id/${prefix}` : '/datasets/:id';
  return subPath === '/' || subPath === '' ? mount : `${mount}${subPath.startsWith('/') ? '' : '/'}${subPath}`;
}

/** The path parameters of a template, in order. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
}
