/**
 * mDNS: with `plugins.web.advertise` on, the engine announces its OSCQuery server as `_oscjson._tcp`
 * (ctx.advertise, bonjour-service), a DNS-SD browser finds it with the web port, and the
 * announcement is withdrawn when the engine stops. Off by default.
 *
 * Multicast must not leave this machine, so the engine and the browser run in a network namespace of
 * their own (`unshare --net`, only a loopback interface, multicast on it). Skipped, saying so, where
 * no namespace can be made (not root, no unshare).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { spawnChild } from '../helpers/child.ts';
import { PROJECT_ROOT } from '../helpers/offline-engine.ts';

const NAMESPACE = 'ip link set lo up && ip link set lo multicast on';
const probe = spawnSync('unshare', ['--net', 'sh', '-c', NAMESPACE], { stdio: 'ignore' });
const SKIP = probe.status === 0 ? false : 'cannot make a network namespace here (unshare --net needs root and util-linux): the mDNS test is skipped';

const url = (rel: string) => pathToFileURL(path.join(PROJECT_ROOT, rel)).href;

/** Inside the namespace: an engine that advertises, a browser that looks for it; one JSON line per finding. */
const CHILD = `
import { createRequire } from 'node:module';
import { startWebEngine } from '${url('test/helpers/web-engine.ts')}';
const { Bonjour } = createRequire('${url('package.json')}')('bonjour-service');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const web = await startWebEngine({ plugins: [], configure: (c) => (c.plugins.web = { ...c.plugins.web, advertise: true, mdnsInterface: '127.0.0.1' }) });
say({ started: true, webPort: web.webPort, status: web.engine.plugins.controls.statuses.get('web') });
const bonjour = new Bonjour({ interface: '127.0.0.1', bind: '0.0.0.0' });
const browser = bonjour.find({ type: 'oscjson' });
const timer = setTimeout(() => { say({ timeout: true }); process.exit(2); }, 20000);
browser.once('up', (s) => {
  say({ up: { name: s.name, type: s.type, protocol: s.protocol, port: s.port } });
  // The goodbye comes while the engine stops: exit once it has stopped and its folder is gone.
  const closed = web.close().then(() => say({ closed: true }));
  browser.once('down', async (d) => {
    say({ down: d.name });
    clearTimeout(timer);
    await closed;
    bonjour.destroy(() => process.exit(0));
  });
});
`;

test('advertise: _oscjson._tcp is found with the web port, and withdrawn when the engine stops', { skip: SKIP }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-mdns-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'child.mts');
  await writeFile(script, CHILD);
  const lines: Record<string, unknown>[] = [];
  const exit = await spawnChild('unshare', ['--net', 'sh', '-c', `${NAMESPACE} && exec "${process.execPath}" --import tsx "${script}"`], (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not ours.
    }
  });
  assert.equal(exit.code, 0, `the child failed: ${JSON.stringify(lines)}\n${exit.stderr}`);
  const started = lines.find((l) => l.started) as { webPort: number; status: { advertised: boolean } };
  assert.equal(started.status.advertised, true);
  const up = lines.find((l) => l.up)?.up;
  assert.deepEqual(up, { name: 'Chronus', type: 'oscjson', protocol: 'tcp', port: started.webPort });
  assert.ok(lines.some((l) => l.down === 'Chronus'), 'the announcement is withdrawn (goodbye) when the engine stops');
});

test('advertising is off by default', () => {
  const defaults = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/default.json'), 'utf8')) as { plugins: { web: { advertise: boolean } } };
  assert.equal(defaults.plugins.web.advertise, false);
});
