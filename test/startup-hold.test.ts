/**
 * While the engine starts, its OSC socket is already open: the kernel's own routes answer at once,
 * and what else arrives is held and applied on the first block, not dropped. The start is held open
 * by a fixture plugin (start-gate) until the test writes a file, so "before the audio runs" is a fact
 * of the test, not a matter of timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OscClient, type OscReply } from '../cli/osc-client.ts';
import { loadConfig } from '../kernel/base/config.ts';
import { Logger } from '../kernel/base/logger.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from './helpers/offline-engine.ts';
import { freeUdpPort } from './helpers/free-port.ts';

const HOST = '127.0.0.1';

test('messages sent while the engine starts: /engine/ping answers at once, a gate is held and sounds in the first block', { timeout: 90_000 }, async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-hold-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await writeTestConfig(root);
  await cp(path.join(PROJECT_ROOT, 'plugins/voices'), path.join(root, 'plugins/voices'), { recursive: true });
  await cp(path.join(FIXTURE_PLUGINS, 'start-gate'), path.join(root, 'plugins/start-gate'), { recursive: true });
  const port = await freeUdpPort();
  const config = loadConfig({ root, env: { CHRONUS_OSC_PORT: String(port) } });
  config.engine.console = false;
  config.audio.dedicatedCpu = false;
  const starting = Engine.start({ config, root, backend: 'null', listen: true, status: false, watch: false, log: Logger.silent() });
  let engine: Engine | undefined;
  t.after(async () => {
    await writeFile(path.join(root, 'plugins/start-gate/go'), '').catch(() => undefined);
    await (engine ?? (await starting.catch(() => undefined)))?.stop();
  });
  const asker = await OscClient.open();
  const player = await OscClient.open();
  t.after(() => Promise.all([asker.close(), player.close()]));

  // The socket opens early; until it is bound a datagram is lost, so ask again (bounded).
  const ping = async (client: OscClient): Promise<OscReply> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.request(HOST, port, '/engine/ping', [], { replyAddress: '/engine/pong', timeoutMs: 250 });
      } catch (e) {
        if (attempt === 120) throw e;
      }
    }
  };
  await ping(asker);
  const early = (await asker.request(HOST, port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 5000 })).json as { framesRendered: number };
  assert.equal(early.framesRendered, 0, 'the engine answers before its audio runs');

  // The player's messages arrive before the audio runs (the start-gate holds it): they wait…
  player.send(HOST, port, '/mod/voice1/adsr/attack', [0.001]);
  player.send(HOST, port, '/mod/voice1/amp', [0.8]);
  player.send(HOST, port, '/gate/voice1', [1]);
  let playerPong = false;
  const playerPinged = player.request(HOST, port, '/engine/ping', [], { replyAddress: '/engine/pong', timeoutMs: 30_000 }).then((r) => {
    playerPong = true;
    return r;
  });
  // …and so does the player's own ping behind them, while another sender's ping is answered now.
  await ping(asker);
  assert.equal(playerPong, false, "the player's ping waits behind its held messages");

  await writeFile(path.join(root, 'plugins/start-gate/go'), '');
  engine = await starting;
  await playerPinged;

  // The output tap keeps the first frames until someone reads them (nothing else reads it here).
  const tap = engine.audio.outputTap;
  const left = new Float32Array(4096);
  const right = new Float32Array(4096);
  const frames = tap.read([left, right], 4096);
  assert.ok(frames >= 256, `a block was rendered (${frames} frames in the tap)`);
  let firstBlockPeak = 0;
  for (let i = 0; i < 256; i++) firstBlockPeak = Math.max(firstBlockPeak, Math.abs(left[i]), Math.abs(right[i]));
  assert.ok(firstBlockPeak > 0.01, `the gate sent before the audio ran sounds in the first block (peak ${firstBlockPeak})`);
  const status = (await asker.request(HOST, port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 5000 })).json as { activeGates: number; errors: number };
  assert.equal(status.activeGates, 1);
  assert.equal(status.errors, 0, 'nothing held was refused');
});
