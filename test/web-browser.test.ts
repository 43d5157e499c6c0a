/**
 * The web view in a real browser: Debian's headless Chromium driven by playwright-core, against a
 * real-time engine (null backend) with the web plugin. The page loads with a panel per plugin, a meter
 * per voice and the master, the spectrum and the scope; the voice meter rises after /gate/voice1 1;
 * a slider, a select and a gate button drive the engine exactly as OSC messages do (values read back
 * over OSC); dropping a plugin folder in adds its panel without reloading the page and removing it
 * removes the panel; a broken edit shows a banner with file:line, and the fix clears it; the recorder
 * shows that it is off, and when on, records from the page; no console errors.
 *
 * Screenshots of the page playing go to test-artifacts/web/ (printed). Skipped, saying so, only when
 * no Chromium is installed (`apt-get install -y chromium`; CI installs it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { FIXTURE_PLUGINS, PROJECT_ROOT } from './helpers/offline-engine.ts';
import { startWebEngine, type WebEngine } from './helpers/web-engine.ts';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p): p is string => !!p && existsSync(p));
const SKIP = CHROMIUM ? false : 'no Chromium installed (apt-get install -y chromium, or set CHROMIUM_PATH): the browser tests of the web view are skipped';
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts', 'web');

async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}

/** A page on the engine's web view, its console errors and page errors collected. */
async function openPage(browser: Browser, web: WebEngine, problems: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.goto(`http://127.0.0.1:${web.webPort}/`);
  await until(page, () => window.chronusPage.frames > 2, null);
  return page;
}

async function shot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, fullPage: true });
  process.stdout.write(`screenshot: ${path.relative(PROJECT_ROOT, file)}\n`);
  return file;
}

/** voice1's parameters as `/engine/list` answers them over OSC. */
async function voiceValues(web: WebEngine, voice: string): Promise<Record<string, number>> {
  const list = String((await web.request('/engine/list', [], '/engine/list')).args[0]);
  const line = list.split('\n').find((l) => l.startsWith(`${voice} `)) ?? '';
  return Object.fromEntries([...line.matchAll(/([\w/]+)=(-?[\d.e+-]+)/g)].map((m) => [m[1], Number(m[2])]));
}

// What the page functions below touch, typed here: this project's types have no DOM. (They are
// functions, not strings: the page's content security policy forbids evaluating strings.)
interface PageElement {
  textContent: string | null;
  disabled?: boolean;
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
}
declare const document: { querySelector(selector: string): PageElement | null };
declare const window: { chronusPage: { id: string; hello: number; frames: number } };

const pageState = (page: Page) => page.evaluate(() => ({ ...window.chronusPage }));

/** Waits (bounded) until `predicate(arg)`, run in the page, is true. */
async function until<A>(page: Page, predicate: (arg: A) => boolean, arg: A, timeout = 10_000): Promise<void> {
  await page.waitForFunction(predicate as (arg: unknown) => boolean, arg as unknown, { timeout });
}

/** The meter `id` shows more than `min` (its last peak, linear). */
const levelAbove = ([id, min]: [string, number]) => Number(document.querySelector(`#${id}`)?.getAttribute('data-level')) > min;
const text = ([selector, pattern]: [string, string]) => new RegExp(pattern).test(document.querySelector(selector)?.textContent ?? '');
const attribute = ([selector, name, value]: [string, string, string]) => document.querySelector(selector)?.getAttribute(name) === value;

describe('the web view in Chromium', { skip: SKIP }, () => {
  let web: WebEngine;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    web = await startWebEngine({ plugins: ['voices', 'distortion', 'reverb', 'recorder'] });
    browser = await launch();
    page = await openPage(browser, web, problems);
  });
  after(async () => {
    await browser?.close();
    await web?.close();
  });

  test('the page: a panel per plugin, a meter per voice and the master, spectrum and scope; the voice meter rises after /gate/voice1 1', async () => {
    for (const id of ['voices', 'distortion', 'reverb', 'web']) assert.equal(await page.locator(`#plugin-${id}`).count(), 1, `a panel for ${id}`);
    assert.match((await page.locator('#plugin-voices header').textContent()) ?? '', /v1\.0\.0/, 'with its version');
    const meters = await page.locator('#meters .meter').evaluateAll((els) => els.map((e) => e.id));
    assert.deepEqual(meters, [...Array.from({ length: 8 }, (_, i) => `meter-voice${i + 1}`), 'meter-master-l', 'meter-master-r']);
    assert.equal(await page.locator('#spectrum .uplot canvas').count(), 1, 'a spectrum plot');
    assert.equal(await page.locator('#scope .uplot canvas').count(), 1, 'a scope plot');
    assert.equal(await page.locator('#meter-voice1').getAttribute('data-level'), '0', 'silence before the gate');

    await web.send('/mod/voice1/osc/type', [1]);
    await web.send('/mod/voice2/freq', [220]);
    await web.send('/gate/voice2', [1]);
    await web.send('/gate/voice1', [1]);
    await until(page, levelAbove, ['meter-voice1', 0.05]);
    await until(page, levelAbove, ['meter-master-l', 0.05]);
    assert.equal(Number(await page.locator('#meter-voice3').getAttribute('data-level')), 0, 'a voice not gated stays silent');
    assert.equal(await page.locator('select[data-address="/mod/voice1/osc/type"]').inputValue(), '1', 'a value set over OSC shows on the page');
    await shot(page, 'playing.png');
  });

  test('a slider, a select and a gate button drive the engine as OSC does (read back over OSC)', async () => {
    const amp = page.locator('input[data-address="/mod/voice1/amp"]');
    await amp.focus();
    await amp.press('End');
    await web.until(() => web.engine.registry.values[web.engine.registry.param('voice1', 'amp')!.index] === 1, 'voice1 amp at its maximum');
    assert.equal(web.engine.router.lastMessage, '/mod/voice1/amp', 'the slider sent exactly /mod/voice1/amp');
    assert.equal((await voiceValues(web, 'voice1')).amp, 1);

    // A frequency slider is logarithmic: Home is its minimum, and what arrives is clamped and smoothed like any OSC value.
    const cutoff = page.locator('input[data-address="/mod/voice1/filter/freq"]');
    await cutoff.focus();
    await cutoff.press('Home');
    await web.until(async () => (await voiceValues(web, 'voice1'))['filter/freq'] === 50, 'voice1 filter/freq at 50 Hz');

    await page.locator('select[data-address="/mod/voice1/osc/type"]').selectOption('2');
    await web.until(async () => (await voiceValues(web, 'voice1'))['osc/type'] === 2, 'voice1 on a square wave');

    const gate = page.locator('button[data-gate="/gate/voice3"]');
    const box = (await gate.boundingBox())!;
    const gates = async () => ((await web.request('/engine/status', [], '/engine/status')).json as { activeGates: number }).activeGates;
    const before = await gates();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await web.until(async () => (await gates()) === before + 1, 'voice3 gated while the button is held');
    await page.mouse.up();
    await web.until(async () => (await gates()) === before, 'voice3 released with the button');

    // A value set elsewhere moves the control on the page.
    await web.send('/mod/voice1/freq', [330]);
    await until(page, () => document.querySelector('input[data-address="/mod/voice1/freq"]')?.closest('.control')?.querySelector('output')?.textContent === '330 Hz', null);
  });

  test('dropping a plugin folder in adds its panel without reloading the page; removing it removes the panel', async () => {
    const was = await pageState(page);
    const folder = path.join(web.root, 'plugins', 'tone');
    await cp(path.join(FIXTURE_PLUGINS, 'tone'), folder, { recursive: true });
    await page.waitForSelector('#plugin-tone input[data-address="/mod/tone1/freq"]', { timeout: 15_000 });
    await page.waitForSelector('#plugin-tone button[data-gate="/gate/tone1"]');
    await page.waitForSelector('#meter-tone1', { timeout: 5000 }).catch(() => undefined);
    const now = await pageState(page);
    assert.equal(now.id, was.id, 'the same page: not reloaded');
    assert.equal(now.hello, 1, 'one hello: no reconnect either');
    await shot(page, 'plugin-added.png');

    await rm(folder, { recursive: true, force: true });
    await page.waitForSelector('#plugin-tone', { state: 'detached', timeout: 15_000 });
    assert.equal((await pageState(page)).id, was.id);
  });

  test('a broken edit shows a banner with file:line at once; the fix clears it', async () => {
    const file = path.join(web.root, 'plugins', 'distortion', 'index.ts');
    const source = await readFile(file, 'utf8');
    const line = source.split('\n').length + 1;
    await writeFile(file, `${source}\nconst broken: number = ;\n`);
    const banner = page.locator('.banner[data-plugin="distortion"]');
    await banner.waitFor({ timeout: 15_000 });
    const heard = web.notices.some((n) => n.address === '/engine/error' && n.args[0] === 'distortion');
    assert.ok(heard, 'the engine reported the failure');
    const text = (await banner.textContent()) ?? '';
    assert.match(text, new RegExp(`index\\.ts:${line}:\\d+`), `the banner names the file and line: ${text}`);
    assert.equal(await page.locator('#plugin-distortion.failed').count(), 1, 'the plugin panel is marked');
    await shot(page, 'broken-edit.png');

    await writeFile(file, source);
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    assert.match((await page.locator('#plugin-distortion header').textContent()) ?? '', /reloaded/);
    assert.equal(await page.locator('#plugin-distortion.failed').count(), 0);
  });

  test('the recorder is off by default, and the page says so', async () => {
    assert.equal(await page.locator('#record').isDisabled(), true);
    assert.match((await page.locator('#record-state').textContent()) ?? '', /recorder off: .*plugins.*recorder.*enabled/);
  });

  test('no console errors, no failed requests, no page errors', () => {
    assert.deepEqual(problems, []);
  });
});

describe('recording from the web view', { skip: SKIP }, () => {
  test('Record and Stop go to /engine/record/start and /stop: a file is written and the page shows the state', async () => {
    const web = await startWebEngine({ plugins: ['voices', 'recorder'], configure: (c) => (c.plugins.recorder = { ...c.plugins.recorder, enabled: true }) });
    const browser = await launch();
    const problems: string[] = [];
    try {
      const page = await openPage(browser, web, problems);
      await web.send('/gate/voice1', [1]);
      const button = page.locator('#record');
      await until(page, () => document.querySelector('#record')?.disabled === false, null);
      assert.equal((await button.textContent())?.trim(), '● Record');
      await button.click();
      await until(page, attribute, ['#record', 'data-recording', 'true']);
      assert.equal(web.engine.recording, true);
      await until(page, text, ['#notice', 'recording to ']);
      await shot(page, 'recording.png');
      await button.click();
      await until(page, attribute, ['#record', 'data-recording', 'false']);
      await until(page, text, ['#notice', 'recorded ']);
      const sessions = await readdir(path.join(web.engine.config.paths.recordings, 'sessions')).catch(() => [] as string[]);
      const files = [...sessions, ...(await readdir(web.engine.config.paths.recordings))].filter((f) => f.endsWith('.wav'));
      assert.ok(files.length > 0, 'a WAV file in recordings/');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await web.close();
    }
  });
});
