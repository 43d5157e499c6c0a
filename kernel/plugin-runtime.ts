/**
 * Turns a plugin bundle (CommonJS text made by esbuild) into its definition, without `import()`:
 * Node never evicts an ESM module, while a function compiled with `vm.compileFunction` is garbage
 * collected with its last reference. `require` resolves only `plugin-sdk`, which enforces the rule
 * that plugins import nothing else. Runs on either thread.
 */
import vm from 'node:vm';
import * as sdk from '../plugin-sdk/index.ts';
import type { PluginDefinition } from '../plugin-sdk/types.ts';

export class PluginCodeError extends Error {}

function pluginRequire(specifier: string): unknown {
  if (specifier === 'plugin-sdk') return sdk;
  throw new PluginCodeError(`plugins may import only 'plugin-sdk', found require('${specifier}')`);
}

export function evaluatePlugin(code: string, filename: string): PluginDefinition {
  const module = { exports: {} as Record<string, unknown> };
  const fn = vm.compileFunction(code, ['exports', 'module', 'require'], { filename });
  fn(module.exports, module, pluginRequire);
  const exported = module.exports.default ?? module.exports;
  const def = exported as Partial<PluginDefinition>;
  if (typeof def !== 'object' || def === null || typeof def.create !== 'function' || typeof def.params !== 'object' || def.params === null) {
    throw new PluginCodeError(`${filename}: the default export must be definePlugin({ params, create })`);
  }
  return def as PluginDefinition;
}
