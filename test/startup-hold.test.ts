/**
 * While the engine starts, its OSC socket is already open: the kernel's own routes answer at once,
 * and what else arrives is held and applied on the first block, not dropped. Then the clock runs
 * while the control halves start: what needs one of them waits for it, the rest plays. The start is
 * held open by the test itself — before the plugins load (an `attach` hook that waits), or while
 * the control halves start (a fixture plugin, start-gate, whose control half waits for a file) — so
 * "before the audio runs" and "before the control halves are in" are facts of the test, not timing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OscClient, type OscReply } from '../cli/osc-client.ts';
import { loadConfig } from '../kernel/base/config.ts';
import { Logger } from '../kernel/base/logger.ts';
import { Engine, type EngineOptions } from '../kernel/engine/engine.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from './helpers/offline-engine.ts';
import { freeUdpPort } from './helpers/free-port.ts';

const HOST = '127.0.0.1';

interface Starting {
  port: number;
  root: string;
  starting: Promise<Engine>;
  asker: OscClient;
  player: OscClient;
  /** /engine/ping until the socket answers (a datagram sent before it is bound is lost: asked again, bounded). */
  ping: (client: OscClient) => Promise<OscReply>;
  status: () => Promise<{ framesRendered: number; activeGates: number; errors: number; peak: number }>;
}

/** An engine on the null backend starting on a temp root with voices and `plugins` (fixtures), and two clients. */
async function startEngine(t: TestContext, plugins: string[], options: Partial<EngineOptions> = {}, release?: () => void): Promise<Starting> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-hold-'));
  await writeTestConfig(root);
  await cp(path.join(PROJECT_ROOT, 'plugins/voices'), path.join(root, 'plugins/voices'), { recursive: true });
  for (const p of plugins) await cp(path.join(FIXTURE_PLUGINS, p), path.join(root, 'plugins', p), { recursive: true });
  const port = await freeUdpPort();
  const config = loadConfig({ root, env: { CHRONUS_OSC_PORT: String(port) } });
  config.engine.console = false;
  config.audio.dedicatedCpu = false;
  // A control half the test holds must not be given up on meanwhile (a start waits 2 × this for one).
  config.engine.trialTimeoutMs = 60_000;
  const starting = Engine.start({ config, root, backend: 'null', listen: true, status: false, watch: false, log: Logger.silent(), ...options });
  const asker = await OscClient.open();
  const player = await OscClient.open();
  // One hook, in this order: whatever holds the start lets go, the engine stops, then its root goes.
  t.after(async () => {
    await writeFile(path.join(root, 'plugins/start-gate/go'), '').catch(() => undefined);
    await release?.();
    await (await starting.catch(() => undefined))?.stop();
    await Promise.all([asker.close(), player.close()]);
    await rm(root, { recursive: true, force: true });
  });
  const ping = async (client: OscClient): Promise<OscReply> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.request(HOST, port, '/engine/ping', [], { replyAddress: '/engine/pong', timeoutMs: 250 });
      } catch (e) {
        if (attempt === 120) throw e;
      }
    }
  };
  const status = async () => (await asker.request(HOST, port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 5000 })).json as Awaited<ReturnType<Starting['status']>>;
  return { port, root, starting, asker, player, ping, status };
}

/** Asks `get` until `ok` holds (every 20 ms, for at most a minute: a loaded machine takes its time); the last answer. */
async function until<T>(get: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const value = await get();
    if (ok(value)) return value;
    assert.ok(attempt < 3000, what);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The first block's peak, from the output tap (it keeps the first frames until someone reads them; nothing else reads it here). */
function firstBlockPeak(engine: Engine): number {
  const left = new Float32Array(4096);
  const right = new Float32Array(4096);
  const frames = engine.audio.outputTap.read([left, right], 4096);
  assert.ok(frames >= 256, `a block was rendered (${frames} frames in the tap)`);
  let peak = 0;
  for (let i = 0; i < 256; i++) peak = Math.max(peak, Math.abs(left[i]), Math.abs(right[i]));
  return peak;
}

test('messages sent while the engine starts: /engine/ping answers at once, a gate is held and sounds in the first block', { timeout: 90_000 }, async (t) => {
  // The plugins load only once the test lets the start go on: until then the audio cannot run.
  let go!: () => void;
  const released = new Promise<void>((resolve) => (go = resolve));
  const { port, starting, asker, player, ping, status } = await startEngine(t, [], { attach: () => released }, () => go());
  await ping(asker);
  assert.equal((await status()).framesRendered, 0, 'the engine answers before its audio runs');

  // The player's messages arrive before the audio runs: they wait…
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

  go();
  const engine = await starting;
  await playerPinged;
  const peak = firstBlockPeak(engine);
  assert.ok(peak > 0.01, `the gate sent before the audio ran sounds in the first block (peak ${peak})`);
  const s = await status();
  assert.equal(s.activeGates, 1);
  assert.equal(s.errors, 0, 'nothing held was refused');
});

test('the clock runs while a control half starts: a voice plays at once, what needs that control half waits for it and is then answered', { timeout: 90_000 }, async (t) => {
  const { port, root, starting, asker, player, ping, status } = await startEngine(t, ['start-gate']);
  await ping(asker);
  // The audio halves are in and the clock runs while start-gate's control half waits for its file.
  await until(status, (x) => x.framesRendered > 0, 'the clock starts while a control half is still starting');

  player.send(HOST, port, '/mod/voice1/adsr/attack', [0.001]);
  player.send(HOST, port, '/gate/voice1', [1]);
  await ping(player);
  // Handled now; the audio thread takes it on its next block.
  const playing = await until(status, (s) => s.activeGates === 1 && s.peak > 0, 'a gate of a plugin without a control half plays at once, and is heard');
  assert.equal(playing.activeGates, 1);

  // A gate of the plugin whose control half is starting, and its route not mapped yet: both wait,
  // and the sender's ping after them waits too (its order is kept) while another sender is answered.
  const replies: string[] = [];
  player.onMessage = (m) => replies.push(m.address);
  player.send(HOST, port, '/gate/gated1', [1]);
  player.send(HOST, port, '/startgate/ready', []);
  player.send(HOST, port, '/engine/ping', []);
  await ping(asker);
  assert.equal((await status()).activeGates, 1, 'the held gate is not applied yet');
  assert.equal(replies.length, 0, 'nothing is answered to the held sender yet');

  await writeFile(path.join(root, 'plugins/start-gate/go'), '');
  await starting;
  for (let attempt = 1; !replies.includes('/engine/pong'); attempt++) {
    assert.ok(attempt < 600, 'the held messages are answered once the control half is in');
    await ping(asker);
  }
  assert.deepEqual(replies, ['/startgate/ready', '/engine/pong'], 'the route mapped by the control half answers, in order, with no /error');
  const s = await until(status, (x) => x.activeGates === 2, 'the held gate was applied');
  assert.equal(s.errors, 0);
});
