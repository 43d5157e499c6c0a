/**
 * kernel/plugins/plugin-bundler.ts: which imports esbuild asks this thread about (each a round trip
 * from its process). Whatever could leave the plugin folder or is not plugin-sdk is asked; a plain
 * './x' and plugin-sdk are not (test/kernel/plugin-host.test.ts refuses what is asked and wrong).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAY_ESCAPE } from '../../kernel/plugins/plugin-bundler.ts';

test('the confine check sees every import that may escape the folder, and not plugin-sdk or ./x', () => {
  for (const path of ['fs', 'node:fs', 'lodash', '/etc/passwd', 'p', 'plugin', 'plugin-sd', 'plugin-sdkx', 'plugin-sdk/internal', '../x', './a/../../x', '..']) {
    assert.ok(MAY_ESCAPE.test(path), `${path} is checked`);
  }
  for (const path of ['plugin-sdk', './dsp', './a/b.ts', '.']) assert.ok(!MAY_ESCAPE.test(path), `${path} is not`);
});
