import { type DateQuery, parseDateQuery } from '../../cf/date-query.js';
import { badRequest } from '../../server/http/problem.js';
import { COLORMAP_NAMES, type Colormap, colormap } from './colormaps.js';

/** The query of a plot request, checked but not yet resolved against the dataset. */
export interface PlotParams {
  /** A time step index, or a date to match against the decoded time coordinate. */
  readonly time?: { readonly index: number } | { readonly date: DateQuery; readonly text: string };
  readonly level?: number;
  readonly colormap: Colormap;
  readonly vmin?: number;
  readonly vmax?: number;
}

const INDEX = /^\d{1,12}$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function single(query: Readonly<Record<string, string[]>>, name: string): string | undefined {
  const values = query[name];
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw badRequest(`give "${name}" once`);
  return values[0];
}

function finite(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!NUMBER.test(text.trim()) || !Number.isFinite(value)) throw badRequest(`"${name}" must be a finite number, got "${text}"`);
  return value;
}

/** Checks the query of `/plot/{var}.png`; throws a 400 problem naming the bad parameter. */
export function parsePlotParams(query: Readonly<Record<string, string[]>>): PlotParams {
  const timeText = single(query, 'time');
  const levelText = single(query, 'level');
  const cmapText = single(query, 'cmap') ?? 'viridis';
  const map = colormap(cmapText);
  if (!map) throw badRequest(`unknown colormap "${cmapText}"; choose one of ${COLORMAP_NAMES.join(', ')}`);
  let time: PlotParams['time'];
  if (timeText !== undefined && timeText !== '') {
    if (INDEX.test(timeText)) time = { index: Number(timeText) };
    else if (/^-\d+$/.test(timeText)) throw badRequest(`"time" index must be 0 or more, got "${timeText}"`);
    else {
      const date = parseDateQuery(timeText);
      if (!date) throw badRequest(`"time" must be a step index or an ISO date like 2001-03-05, got "${timeText}"`);
      time = { date, text: timeText };
    }
  }
  if (levelText !== undefined && levelText !== '' && !INDEX.test(levelText)) {
    throw badRequest(`"level" must be an index (0, 1, ...), got "${levelText}"`);
  }
  const vmin = finite('vmin', single(query, 'vmin'));
  const vmax = finite('vmax', single(query, 'vmax'));
  if (vmin !== undefined && vmax !== undefined && !(vmax > vmin)) throw badRequest(`"vmax" (${vmax}) must be greater than "vmin" (${vmin})`);
  return {
    ...(time ? { time } : {}),
    ...(levelText ? { level: Number(levelText) } : {}),
    colormap: map,
    ...(vmin !== undefined ? { vmin } : {}),
    ...(vmax !== undefined ? { vmax } : {}),
  };
}
