/**
 * Turns a plugin bundle (CommonJS text made by esbuild) into its definition, without `import()`:
 * Node never evicts an ESM module, while a function compiled with `vm.compileFunction` is garbage
 * collected with its last reference. Runs on either thread.
 *
 * Each version is compiled in a realm of its own (a `vm` context): it sees the language's built-ins
 * and the SDK, and no ambient authority — no `process`, `require` beyond `plugin-sdk`, dynamic
 * `import()`, timers, `console`, network or `eval` — so a stray `process.exit()` or
 * `process.getBuiltinModule('fs')` is an ordinary error in that plugin. This keeps accidents out; it
 * is not a security boundary against deliberately hostile code (as Node says of `vm`): objects the
 * SDK hands in belong to the engine's realm.
 */
import vm from 'node:vm';
import * as sdk from '../../plugin-sdk/index.ts';
import type { PluginDefinition } from '../../plugin-sdk/types.ts';
import type { ControlDefinition } from '../../plugin-sdk/control.ts';

export class PluginCodeError extends Error {}

function pluginRequire(specifier: string): unknown {
  if (specifier === 'plugin-sdk') return sdk;
  throw new PluginCodeError(`plugins may import only 'plugin-sdk', found require('${specifier}')`);
}

/**
 * Memory and wasm come from the engine's realm, so buffers cross between a plugin, the SDK and the
 * next version of the plugin (state handoff) with `instanceof` intact.
 */
const SHARED_GLOBALS = {
  ArrayBuffer,
  SharedArrayBuffer,
  DataView,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  Atomics,
  // Text to and from bytes (files, packets): no authority of their own.
  TextEncoder,
  TextDecoder,
  // The project's lib has no WebAssembly types; the engine realm's object is what the SDK compiles with.
  WebAssembly: (globalThis as Record<string, unknown>).WebAssembly,
};

/** A fresh realm for one plugin version. */
function pluginRealm(): vm.Context {
  const context = vm.createContext({ ...SHARED_GLOBALS }, { name: 'chronus plugin', codeGeneration: { strings: false, wasm: true } });
  // V8 gives every context a `console` of its own (it talks to the inspector); plugins log through ctx.log.
  vm.runInContext('delete globalThis.console', context);
  return context;
}

/**
 * Built-ins a plugin's code gets as parameters of its module function, bound to the realm's own
 * objects. A realm's global object answers every lookup through Node's interceptor (a C++ call that
 * V8 cannot cache), so `Math.round(x)` in a plugin's process() cost a C++ round trip per call; a
 * parameter is an ordinary variable. Measured (perf): about 0.25 s of a 128-voice reference render's
 * 4 s went to those lookups; none now. The values are what a global lookup would give, so nothing
 * else changes.
 */
const BUILT_INS = [
  'Math', 'Number', 'Infinity', 'NaN', 'isFinite', 'isNaN', 'parseFloat', 'parseInt', 'Object', 'Array', 'String', 'Boolean',
  'Symbol', 'BigInt', 'JSON', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Promise', 'Reflect', 'Error', 'TypeError', 'RangeError', 'Date',
  ...Object.keys(SHARED_GLOBALS),
];
const MODULE_PARAMS = ['exports', 'module', 'require'];

/**
 * A V8 code cache for one evaluation (kernel/plugins/code-cache.ts): `data` to compile from (V8 checks
 * it and rejects data made for other code, flags or versions), and `store` to keep what V8 makes when
 * there was none or it was rejected (control thread; the audio thread only reads). `store` gets a
 * function that makes the data, so that a caller may make and write it later (a reload: after the swap).
 */
export interface CodeCache {
  readonly data?: Uint8Array;
  readonly store?: (make: () => Buffer) => void;
}

/**
 * The module function of a bundle in `realm`: with the built-ins as parameters, unless the bundle
 * declares one of those names itself. A `vm.Script` of the function (its head on the bundle's first
 * line, so line numbers stay the bundle's) rather than `vm.compileFunction`, which has no code cache
 * of what runs after it is compiled.
 */
function compileModule(code: string, filename: string, realm: vm.Context, cache: CodeCache | undefined): { fn: (...args: unknown[]) => void; script: vm.Script } {
  const compile = (params: string[]) => {
    const script = new vm.Script(`(function (${params.join(', ')}) {${code}\n})`, { filename, cachedData: cache?.data });
    return { fn: script.runInContext(realm) as (...args: unknown[]) => void, script };
  };
  try {
    return compile([...MODULE_PARAMS, ...BUILT_INS]);
  } catch (e) {
    // `const Math = …` at a bundle's top level clashes with the parameter: compile it as it is.
    if (!(e instanceof SyntaxError)) throw e;
    return compile(MODULE_PARAMS);
  }
}

/** Runs a bundle's top level in a fresh realm; its default export (or its exports) and the realm. */
function evaluateModule(code: string, filename: string, cache?: CodeCache): { exported: unknown; realm: vm.Context } {
  const realm = pluginRealm();
  const module = { exports: {} as Record<string, unknown> };
  const { fn, script } = compileModule(code, filename, realm, cache);
  const builtIns = vm.runInContext(`[${BUILT_INS.join(', ')}]`, realm) as unknown[];
  fn(module.exports, module, pluginRequire, ...builtIns);
  // After the top level ran: the functions it called are compiled by now and go into the cache too.
  if (cache?.store && (cache.data === undefined || script.cachedDataRejected === true)) cache.store(() => script.createCachedData());
  return { exported: module.exports.default ?? module.exports, realm };
}

/**
 * The version last evaluated on this thread. An in-process audio engine (an offline render) loads
 * the version the plugin host has just evaluated: it takes that definition instead of compiling and
 * running the same code in a second realm (≈ 10 % of an empty render's instructions, callgrind). The
 * host only reads a definition's tables; instances come from `create` either way.
 */
let last: { code: string; filename: string; definition: PluginDefinition } | null = null;

export function evaluatePlugin(code: string, filename: string, cache?: CodeCache): PluginDefinition {
  if (last !== null && last.code === code && last.filename === filename) return last.definition;
  const def = evaluateModule(code, filename, cache).exported as Partial<PluginDefinition>;
  if (typeof def !== 'object' || def === null || typeof def.create !== 'function' || typeof def.params !== 'object' || def.params === null) {
    throw new PluginCodeError(`${filename}: the default export must be definePlugin({ params, create })`);
  }
  last = { code, filename, definition: def as PluginDefinition };
  return last.definition;
}

/** A control half's definition and the realm it runs in (calls into it are time-limited there: kernel/plugins/control-call.ts). */
export function evaluateControl(code: string, filename: string, cache?: CodeCache): { definition: ControlDefinition; realm: vm.Context } {
  const { exported, realm } = evaluateModule(code, filename, cache);
  const def = exported as Partial<ControlDefinition>;
  if (typeof def !== 'object' || def === null || typeof def.create !== 'function') {
    throw new PluginCodeError(`${filename}: the default export must be defineControl({ create })`);
  }
  return { definition: def as ControlDefinition, realm };
}
