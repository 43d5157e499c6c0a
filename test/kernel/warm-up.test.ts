import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PluginDefinition } from '../../plugin-sdk/types.ts';
import { AudioEngine } from '../../kernel/audio/audio-engine.ts';
import { ControlRing } from '../../kernel/audio/control-ring.ts';
import { EventKind } from '../../kernel/audio/event-kinds.ts';
import type { SlotSpec } from '../../kernel/audio/slot-spec.ts';
import { warmUp } from '../../kernel/audio/warm-up.ts';

const SR = 48000;
const BLOCK = 256;

/** A gated sine source that counts what happens to its instances. */
function probe(options: { failSecondCreate?: boolean } = {}) {
  const seen = { creates: 0, disposes: 0, gatesOn: 0, gatesOff: 0, frames: 0, levels: new Set<number>() };
  const definition: PluginDefinition = {
    params: {},
    create(ctx) {
      seen.creates++;
      if (options.failSecondCreate && seen.creates > 1) throw new Error('no second instance');
      const level = ctx.param('tone', 'level');
      const main = ctx.bus('main');
      let phase = 0;
      let env = 0;
      let open = false;
      return {
        gate(_module, value) {
          open = value > 0;
          if (open) seen.gatesOn++;
          else seen.gatesOff++;
        },
        process(start, end) {
          seen.frames += end - start;
          seen.levels.add(level.value);
          for (let i = start; i < end; i++) {
            env += ((open ? 1 : 0) - env) * 0.001;
            phase += (2 * Math.PI * 440) / SR;
            const x = Math.sin(phase) * env * level.value;
            main.l[i] += x;
            main.r[i] += x;
          }
        },
        dispose() {
          seen.disposes++;
        },
      };
    },
  };
  return { definition, seen };
}

const spec: SlotSpec = {
  slotId: 1,
  pluginId: 'tone',
  version: '1.0.0',
  role: 'source',
  order: 0,
  code: '',
  filename: 'tone/index.ts',
  modules: ['tone'],
  params: [{ module: 0, name: 'level', index: 0, spec: { min: 0, max: 1, default: 0.5, smoothingMs: 0 } }],
  gates: [{ module: 0, index: 0 }],
  follows: [],
  config: {},
  numVoices: 1,
};

/** A live engine playing the probe with its gate open and level 0.3, after `blocks` blocks. */
function live(definition: PluginDefinition, blocks: number): AudioEngine {
  const engine = new AudioEngine(SR, BLOCK, 20, new ControlRing(64), new ControlRing(64));
  engine.load(spec, definition);
  engine.queue.insert(0, EventKind.SetParam, 0, 0.3);
  engine.queue.insert(0, EventKind.Gate, 0, 1);
  render(engine, blocks);
  return engine;
}

function render(engine: AudioEngine, blocks: number): Float32Array {
  const out = new Float32Array(blocks * BLOCK);
  const l = new Float32Array(BLOCK);
  const r = new Float32Array(BLOCK);
  for (let b = 0; b < blocks; b++) {
    engine.renderBlock(l, r, BLOCK);
    engine.housekeeping();
    out.set(l, b * BLOCK);
  }
  return out;
}

test('warm-up: scratch instances play the live parameter values with gates opening and closing, then are disposed', () => {
  const { definition, seen } = probe();
  const engine = live(definition, 4);
  const framesBefore = seen.frames;
  warmUp(engine, 20, 0.5);
  assert.equal(seen.creates, 2);
  assert.equal(seen.disposes, 1, 'the scratch instance is disposed, the live one is not');
  assert.ok(seen.frames - framesBefore >= 0.5 * SR, `${seen.frames - framesBefore} frames warmed`);
  assert.ok(seen.gatesOn >= 3 && seen.gatesOff >= 2, `gates on ${seen.gatesOn}, off ${seen.gatesOff}`);
  assert.deepEqual([...seen.levels], [0.3], 'the live value, not the default');
});

test('warm-up: the live instances and what they play are untouched', () => {
  const warmed = live(probe().definition, 4);
  const cold = live(probe().definition, 4);
  warmUp(warmed, 20, 0.5);
  assert.equal(warmed.frame, cold.frame);
  assert.deepEqual(render(warmed, 40), render(cold, 40));
});

test('warm-up: a plugin whose scratch instance cannot be made is skipped, and the live one plays on', () => {
  const { definition } = probe({ failSecondCreate: true });
  const engine = live(definition, 4);
  assert.doesNotThrow(() => warmUp(engine, 20, 0.5));
  const out = render(engine, 8);
  assert.ok(out.some((x) => Math.abs(x) > 0.01));
  assert.equal(engine.plugins()[0].bypassed, false);
});
