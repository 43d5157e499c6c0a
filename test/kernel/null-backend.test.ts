/** The null backend's pacing: blocks rendered ahead of the clock by the lead, and more on request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioEngine } from '../../kernel/audio/audio-engine.ts';
import { createNullBackend, wallMs } from '../../kernel/audio/backends/null-backend.ts';
import { ControlRing } from '../../kernel/audio/control-ring.ts';
import { SharedState, Slot } from '../../kernel/audio/shared-state.ts';
import type { WorkerData } from '../../kernel/audio/worker-data.ts';

const SR = 48000;
const BLOCK = 256;
const LEAD = 3;

function setup() {
  const shared = new SharedState();
  const engine = new AudioEngine(SR, BLOCK, 20, new ControlRing(1024), new ControlRing(64), shared);
  const data = { sampleRate: SR, blockSize: BLOCK, smoothingMs: 20, leadBlocks: LEAD } as WorkerData;
  const wake = new Int32Array(new SharedArrayBuffer(4));
  return { shared, backend: createNullBackend(engine, data, wake) };
}

/** Blocks rendered beyond the one being heard now (from the anchor the backend publishes). */
function ahead(shared: SharedState): number {
  const v = shared.values;
  const heard = Math.floor(((wallMs() - v[Slot.AnchorWallMs]) * SR) / 1000 / BLOCK);
  return v[Slot.BlocksRendered] - heard;
}

test('renderAhead renders extra blocks at once, beyond the lead, and the schedule stays', async (t) => {
  const { shared, backend } = setup();
  backend.start();
  t.after(() => backend.stop());
  // Let the loop settle on its schedule: the lead rendered, then one block per period.
  while (shared.values[Slot.BlocksRendered] < 20) await new Promise((r) => setTimeout(r, 5));
  const before = shared.values[Slot.BlocksRendered];
  assert.ok(ahead(shared) <= LEAD + 1, `on schedule: ${ahead(shared)} blocks ahead`);

  backend.renderAhead?.(3);
  const rendered = shared.values[Slot.BlocksRendered] - before;
  // Synchronously: the loop itself cannot run while this test's code does.
  assert.ok(rendered >= 3, `at least the 3 extra blocks at once (rendered ${rendered})`);
  const anchor = shared.values[Slot.AnchorWallMs];
  // The loop now sleeps until the clock catches up: no block for a while.
  const count = shared.values[Slot.BlocksRendered];
  await new Promise((r) => setImmediate(r));
  assert.equal(shared.values[Slot.BlocksRendered], count, 'nothing more is due yet');
  assert.equal(shared.values[Slot.AnchorWallMs], anchor, 'rendering early does not move the schedule');
});

test('renderAhead before start does nothing', () => {
  const { shared, backend } = setup();
  backend.renderAhead?.(3);
  assert.equal(shared.values[Slot.BlocksRendered], 0);
});
