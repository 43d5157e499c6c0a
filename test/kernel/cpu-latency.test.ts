import assert from 'node:assert/strict';
import { accessSync, constants, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../kernel/base/config.ts';
import { CPU_DMA_LATENCY_DEVICE, requestCpuLatency } from '../../kernel/platform/cpu-latency.ts';
import { Engine } from '../../kernel/engine/engine.ts';
import { engineStatus } from '../../kernel/status/engine-status.ts';
import { Logger } from '../../kernel/base/logger.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from '../helpers/offline-engine.ts';

const deviceWritable = (() => {
  try {
    accessSync(CPU_DMA_LATENCY_DEVICE, constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();
/** The PM QoS target the kernel applies now: the smallest of all requests held (a native s32). */
const effectiveUs = () => new Int32Array(new Uint8Array(readFileSync(CPU_DMA_LATENCY_DEVICE)).buffer, 0, 1)[0];

test('cpu latency: null asks for nothing', () => {
  const r = requestCpuLatency(null, '/nonexistent');
  assert.equal(r.state, 'off');
  assert.equal(r.requestedUs, null);
  r.release();
});

test('cpu latency: the request is one native 32-bit value, written once and kept open until released', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-qos-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'cpu_dma_latency');
  await writeFile(file, '');
  const r = requestCpuLatency(75, file);
  assert.equal(r.state, 'held');
  assert.equal(r.reason, '');
  assert.deepEqual([...new Int32Array(new Uint8Array(await readFile(file)).buffer)], [75]);
  r.release();
  r.release();
});

test('cpu latency: without the device or the permission the engine goes on, and says why', async (t) => {
  const missing = requestCpuLatency(0, '/nonexistent/cpu_dma_latency');
  assert.equal(missing.state, 'unavailable');
  assert.match(missing.reason, /\/nonexistent\/cpu_dma_latency: ENOENT/);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-qos-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const denied = requestCpuLatency(0, dir);
  assert.equal(denied.state, 'denied');
  assert.match(denied.reason, /EISDIR/);
  denied.release();
});

test('cpu latency: a real-time engine holds the configured request while it plays and reports it', { skip: !deviceWritable && `${CPU_DMA_LATENCY_DEVICE} is not writable here` }, async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-qos-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ audio: { cpuDmaLatencyUs: 3 } }));
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(root, 'plugins/tone'), { recursive: true });
  const engine = await Engine.start({ config: loadConfig({ root, env: {} }), root, backend: 'null', listen: false, status: false, watch: false, log: Logger.silent() });
  let stopped = false;
  t.after(() => (stopped ? undefined : engine.stop()));
  assert.deepEqual(engineStatus(engine).cpuLatency, { state: 'held', requestedUs: 3, reason: '' });
  assert.ok(effectiveUs() <= 3, `the kernel applies ${effectiveUs()} µs`);
  await engine.stop();
  stopped = true;
  assert.equal(engine.cpuLatency.state, 'held');
  // Released: a second release (as a stop after a failed start does) is harmless.
  engine.cpuLatency.release();
});
