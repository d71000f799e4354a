import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { generateStaticStac } from '../../static-stac/generate.js';
import { repoRoot, startInProcess } from '../helpers/server.js';
import { type StaticSite, serveFolders } from './static-site.js';

/**
 * STAC Browser (built once by scripts/build-stac-browser.sh, cached outside the project) in
 * Debian's headless Chromium, browsing strato's live STAC API and the static tree `strato stac`
 * writes: root → collection → item by clicking, as a person would.
 */

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The first build installs ~1150 npm packages and runs webpack: minutes on two cores. */
const BUILD_TIMEOUT_MS = 30 * 60_000;
const shots = join(repoRoot, '.tmp', 'screenshots');

let server: RunningServer;
let site: StaticSite;
let tree: string;
let profile: string;
let context: BrowserContext;
let page: Page;
/** Requests that left loopback (aborted: the tests must not depend on the internet). */
const foreignRequests = new Set<string>();
/** Requests to strato or the static site that failed in the browser (CORS, network). */
const failedRequests: string[] = [];
const consoleErrors: string[] = [];

interface Link {
  rel: string;
  href: string;
  title?: string;
}

async function buildStacBrowser(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [join(repoRoot, 'scripts', 'build-stac-browser.sh')], { timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  return first(stdout.trim().split('\n').reverse(), 'the build script printed no path');
}

function first<T>(list: readonly T[], what: string): T {
  const [head] = list;
  if (head === undefined) throw new Error(what);
  return head;
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

function linksOf(document: Record<string, unknown>, rel: string): Link[] {
  return (document.links as Link[]).filter((link) => link.rel === rel);
}

function titleOf(document: Record<string, unknown>): string {
  const properties = document.properties as Record<string, unknown> | undefined;
  const title = properties?.title ?? document.title;
  expect(typeof title).toBe('string');
  return title as string;
}

/** STAC Browser's address for a STAC document at an http URL (its "external" route). */
function browserUrl(stacUrl: string): string {
  const url = new URL(stacUrl);
  return `${site.url}/#/external/${url.protocol}/${url.host}${url.pathname}`;
}

/** How much of the image the most common colour covers (1 = a blank page). */
function dominantColourShare(png: Buffer): { share: number; colours: number } {
  const image = PNG.sync.read(png);
  const counts = new Map<number, number>();
  for (let i = 0; i < image.data.length; i += 4) {
    const colour = image.data.readUInt32BE(i);
    counts.set(colour, (counts.get(colour) ?? 0) + 1);
  }
  const pixels = image.data.length / 4;
  return { share: Math.max(...counts.values()) / pixels, colours: counts.size };
}

async function screenshot(name: string): Promise<{ share: number; colours: number }> {
  const png = await page.screenshot({ fullPage: false });
  await writeFile(join(shots, `${name}.png`), png);
  return dominantColourShare(png);
}

/** Waits until the item page lists the item's assets by their titles (the page is complete). */
async function expectAssetsShown(item: Record<string, unknown>): Promise<void> {
  const titles = Object.values(item.assets as Record<string, { title?: string }>).map((asset) => asset.title);
  expect(titles.length).toBeGreaterThan(0);
  for (const title of titles) {
    expect(typeof title).toBe('string');
    await page
      .getByText(title as string, { exact: true })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
  }
}

async function heading(): Promise<string | null> {
  return page.locator('h1').first().textContent();
}

/**
 * Clicks the link named `title` and waits for the page whose heading is `expectedHeading`; then
 * opens the link's href afresh (as a new tab or a shared URL would) and expects the same page.
 */
async function follow(title: string, expectedHeading: string): Promise<void> {
  const link = page.getByRole('link', { name: title, exact: true }).first();
  const href = new URL((await link.getAttribute('href')) ?? '', page.url()).toString();
  await link.click();
  await expect.poll(heading, { timeout: 30_000 }).toBe(expectedHeading);
  expect(page.url()).toBe(href);
  await page.goto('about:blank');
  await page.goto(href);
  await expect.poll(heading, { timeout: 30_000 }).toBe(expectedHeading);
}

beforeAll(async () => {
  const dist = await buildStacBrowser();
  server = await startInProcess(join(repoRoot, 'demo', 'catalog.yaml'));
  tree = await mkdtemp(join(tmpdir(), 'strato-static-stac-'));
  await generateStaticStac(server.registry, tree, { baseUrl: server.url });
  site = await serveFolders({ '/': dist, '/static/': tree });
  await mkdir(shots, { recursive: true });
  profile = await mkdtemp(join(tmpdir(), 'strato-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1280, height: 900 } });
  const local = (url: string) => url.startsWith(server.url) || url.startsWith(site.url) || url.startsWith('data:') || url.startsWith('blob:');
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    foreignRequests.add(new URL(url).origin);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.on('requestfailed', (request) => {
    // ERR_ABORTED: a navigation cancelled the page's prefetches; CORS and network errors are ERR_FAILED.
    if (local(request.url()) && request.failure()?.errorText !== 'net::ERR_ABORTED') failedRequests.push(`${request.url()}: ${request.failure()?.errorText ?? ''}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
}, BUILD_TIMEOUT_MS + 60_000);

afterAll(async () => {
  await context?.close();
  await site?.close();
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  if (tree) await rm(tree, { recursive: true, force: true });
  if (foreignRequests.size > 0) console.log(`STAC Browser requests outside loopback (blocked): ${[...foreignRequests].join(', ')}`);
});

describe('STAC Browser', () => {
  it('browses the live STAC API: root → collection → item', async () => {
    const root = await getJson(`${server.url}/stac`);
    const collections = (await getJson(`${server.url}/stac/collections`)).collections as Record<string, unknown>[];
    const collection = first(collections, 'no collections');
    const items = await getJson(first(linksOf(collection, 'items'), 'no items link').href);
    const item = first(items.features as Record<string, unknown>[], 'no items');

    await page.goto(browserUrl(`${server.url}/stac`));
    await expect.poll(heading, { timeout: 60_000 }).toBe(titleOf(root));
    expect((await screenshot('stac-browser-api-root')).colours).toBeGreaterThan(20);

    await follow(titleOf(collection), titleOf(collection));
    await follow(titleOf(item), titleOf(item));
    expect(page.url()).toContain(`/collections/${collection.id as string}/items/${item.id as string}`);
    await expectAssetsShown(item);
    const shot = await screenshot('stac-browser-api-item');
    expect(shot.colours).toBeGreaterThan(20);
    expect(shot.share).toBeLessThan(0.95);
    await expect(page.getByText(titleOf(item)).first().isVisible()).resolves.toBe(true);

    expect(failedRequests).toEqual([]);
    expect(consoleErrors.filter((text) => /CORS|Access-Control/i.test(text))).toEqual([]);
  }, 180_000);

  it('searches the live API from its search page (POST /stac/search from another origin) and lists every item', async () => {
    const everything = await getJson(`${server.url}/stac/search`);
    const titles = (everything.features as Record<string, unknown>[]).map(titleOf);
    expect(titles.length).toBeGreaterThan(0);
    const searches: string[] = [];
    const onRequest = (request: { url(): string; method(): string }) => {
      if (request.url().startsWith(`${server.url}/stac/search`)) searches.push(request.method());
    };
    page.on('request', onRequest);
    const url = new URL(`${server.url}/stac`);
    await page.goto(`${site.url}/#/search/external/${url.protocol}/${url.host}${url.pathname}`);
    await page.getByRole('button', { name: 'Submit', exact: true }).click();
    for (const title of titles) await page.getByRole('link', { name: title, exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
    page.off('request', onRequest);
    expect(searches).toContain('POST');
    expect(failedRequests).toEqual([]);
    expect(consoleErrors.filter((text) => /CORS|Access-Control/i.test(text))).toEqual([]);
    await screenshot('stac-browser-api-search');
  }, 180_000);

  it('browses the static tree of `strato stac`: catalog.json → collection → item', async () => {
    const root = await getJson(`${site.url}/static/catalog.json`);
    const childHref = new URL(first(linksOf(root, 'child'), 'no child').href, `${site.url}/static/catalog.json`).toString();
    const collection = await getJson(childHref);
    const itemHref = new URL(first(linksOf(collection, 'item'), 'no item').href, childHref).toString();
    const item = await getJson(itemHref);

    await page.goto(browserUrl(`${site.url}/static/catalog.json`));
    await expect.poll(heading, { timeout: 60_000 }).toBe(titleOf(root));
    await follow(titleOf(collection), titleOf(collection));
    await follow(titleOf(item), titleOf(item));
    expect(page.url()).toContain(new URL(itemHref).pathname);
    await expectAssetsShown(item);
    const shot = await screenshot('stac-browser-static-item');
    expect(shot.colours).toBeGreaterThan(20);
    expect(shot.share).toBeLessThan(0.95);

    expect(failedRequests).toEqual([]);
    expect(consoleErrors.filter((text) => /CORS|Access-Control/i.test(text))).toEqual([]);
  }, 180_000);

  it('goes from the static mixed.json root to the live API on the server (another origin) and on to an item', async () => {
    const mixed = await getJson(`${site.url}/static/mixed.json`);
    const live = first(
      linksOf(mixed, 'child').filter((link) => link.href.startsWith(server.url)),
      'mixed.json links no live API',
    );
    const liveRoot = await getJson(live.href);
    const collection = first((await getJson(`${server.url}/stac/collections`)).collections as Record<string, unknown>[], 'no collections');
    const item = first((await getJson(first(linksOf(collection, 'items'), 'no items link').href)).features as Record<string, unknown>[], 'no items');

    await page.goto(browserUrl(`${site.url}/static/mixed.json`));
    await expect.poll(heading, { timeout: 60_000 }).toBe(titleOf(mixed));
    const liveUrl = new URL(live.href);
    await page.locator(`a[href$="/external/${liveUrl.protocol}/${liveUrl.host}${liveUrl.pathname}"]`).first().click();
    await expect.poll(heading, { timeout: 30_000 }).toBe(titleOf(liveRoot));
    await follow(titleOf(collection), titleOf(collection));
    await follow(titleOf(item), titleOf(item));
    expect(page.url()).toContain(`${liveUrl.host}/stac/collections/${collection.id as string}/items/${item.id as string}`);
    await expectAssetsShown(item);
    const shot = await screenshot('stac-browser-mixed-live-item');
    expect(shot.share).toBeLessThan(0.95);

    expect(failedRequests).toEqual([]);
    expect(consoleErrors.filter((text) => /CORS|Access-Control/i.test(text))).toEqual([]);
  }, 180_000);
});
