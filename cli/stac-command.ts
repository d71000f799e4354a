import { parseArgs } from 'node:util';
import type { StratoConfig } from '../server/config.js';
import { createLogger } from '../server/log.js';
import { writeStaticStac } from '../static-stac/regenerate.js';
import { HELP, UsageError } from './help.js';

/** `strato stac ARGS`: the static STAC tree of the catalog's datasets. */
export async function staticStac(args: string[], config: StratoConfig): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      catalog: { type: 'string', default: config.catalog },
      out: { type: 'string' },
      'base-url': { type: 'string', default: 'http://localhost:8000' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.out) throw new UsageError('stac needs --out DIR');
  if (!/^https?:\/\/\S+$/.test(values['base-url'])) throw new UsageError(`--base-url must be an http(s) URL, got "${values['base-url']}"`);
  const logger = createLogger('warn');
  const result = await writeStaticStac(values.catalog, values.out, values['base-url']);
  for (const { id, problems } of result.problems) logger.warn('extents incomplete', { dataset: id, problems });
  process.stdout.write(`strato stac: ${result.items} items in ${result.collections} collections, ${result.files.length} files in ${values.out}\n`);
  return 0;
}
