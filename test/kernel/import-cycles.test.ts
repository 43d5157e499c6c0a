/**
 * No import circles in the kernel (type-only imports included): scripts/check-cycles.mjs runs Tarjan's
 * algorithm over the relative imports of kernel/**, and a circle fails this test with its path.
 * The checker itself is tried on a small tree with a circle hidden in a type import and a
 * multi-line import.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { describeCycle, findCycles } from '../../scripts/check-cycles.mjs';
import { PROJECT_ROOT } from '../helpers/offline-engine.ts';

test('the kernel has no import circle', () => {
  const cycles = findCycles(PROJECT_ROOT, ['kernel']);
  assert.deepEqual(cycles.map(describeCycle), [], 'hand the module a narrow interface (kernel/engine/engine-services.ts) instead of importing back');
});

test('plugin-sdk, cli and plugins have no import circle either', () => {
  assert.deepEqual(findCycles(PROJECT_ROOT, ['plugin-sdk', 'cli', 'plugins']).map(describeCycle), []);
});

test('the checker finds a circle through a type-only, multi-line import and names it', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-cycles-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'k/sub'), { recursive: true });
  await writeFile(path.join(root, 'k/hub.ts'), "import { route } from './sub/route.ts';\nexport class Hub {}\n");
  await writeFile(path.join(root, 'k/sub/route.ts'), "import type {\n  Hub,\n} from '../hub.ts';\n// import { x } from './leaf.ts'; (a comment is no import)\nexport function route(h: Hub) {}\n");
  await writeFile(path.join(root, 'k/sub/leaf.ts'), "import { route } from './route.ts';\nexport const x = 1;\n");
  await writeFile(path.join(root, 'k/self.mjs'), "export * from './self.mjs';\n");
  const cycles = findCycles(root, ['k']);
  assert.deepEqual(cycles.map((c) => c.path).sort(), [
    ['k/hub.ts', 'k/sub/route.ts', 'k/hub.ts'],
    ['k/self.mjs', 'k/self.mjs'],
  ]);
  assert.match(describeCycle(cycles.find((c) => c.files.length === 2)!), /^import circle: k\/hub\.ts → k\/sub\/route\.ts → k\/hub\.ts$/);
  assert.deepEqual(findCycles(root, ['k'], { ignore: ['k/sub', 'k/self.mjs'] }), []);
});
