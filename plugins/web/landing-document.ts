import type { LandingLink, StratoPlugin } from '../../server/plugin.js';

/**
 * Which form of the landing page `/` a request asks for, as OGC API servers decide it (pygeoapi's
 * rule): `?f=json|html` first; else HTML when the Accept header names text/html (every browser
 * does), JSON otherwise (curl, requests, owslib send `*\/*`). Undefined: an `f` it does not know.
 */
export function landingFormat(f: string | undefined, accept: string | undefined): 'json' | 'html' | undefined {
  if (f !== undefined) return f === 'json' || f === 'html' ? f : undefined;
  return accept !== undefined && /\btext\/html\b/i.test(accept) ? 'html' : 'json';
}

/** The JSON landing page (OGC API – Common, Part 1): this server and the links every plugin adds. */
export function landingDocument(base: string, plugins: readonly StratoPlugin[]): { title: string; description: string; links: Array<LandingLink> } {
  const links: LandingLink[] = [
    { rel: 'self', href: `${base}/?f=json`, type: 'application/json', title: 'This document' },
    { rel: 'alternate', href: `${base}/?f=html`, type: 'text/html', title: 'This page as HTML' },
  ];
  for (const plugin of plugins) for (const link of plugin.landingLinks ?? []) links.push({ ...link, href: `${base}${link.href}` });
  return {
    title: 'strato',
    description: 'Kerchunk-referenced NetCDF4/HDF5 archives as cloud-native Zarr, with STAC, OPeNDAP, intake and OGC API – Processes',
    links,
  };
}
