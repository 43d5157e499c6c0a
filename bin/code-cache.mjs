// Runs a prebuilt CommonJS bundle (dist/chronus.cjs) with a V8 code cache beside it, so a start or a
// render does not parse and compile the 1.6 MB bundle again: the first run of a command writes
// `<file>.<command>.v8cache` as it exits (with the functions that command compiled), later runs of it
// take their code from there (NODE_DEBUG=chronus:startup says which). Node 20 has
// no code cache for ES modules (and no module.enableCompileCache), hence a CommonJS bundle and
// `vm.Script` with `cachedData`. V8 checks a cache against the source, its own version and flags and
// rejects one that does not match; a rejected or missing cache is written again. A folder that cannot
// be written (a read-only install) just means no cache.
// Built-ins through process.getBuiltinModule, as in bin/chronus.mjs (no ES module facades).
const { readFileSync, renameSync, rmSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { createRequire } = process.getBuiltinModule('node:module');
const path = process.getBuiltinModule('node:path');
const { debuglog } = process.getBuiltinModule('node:util');
const v8 = process.getBuiltinModule('node:v8');
const vm = process.getBuiltinModule('node:vm');
const { isAscii } = process.getBuiltinModule('node:buffer');

const trace = debuglog('chronus:startup');

/** Runs the CommonJS file `file` as `require` would, with its code from the cache kept for `tag` (a command) when it has one. */
export function runWithCodeCache(file, tag) {
  const require = createRequire(file);
  // Node maps stack traces only for files it loads itself: with --enable-source-maps, load it plainly.
  if (process.sourceMapsEnabled) return require(file);
  const cacheFile = `${file}.${tag}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The same wrapper as Node's own for CommonJS, on the first line, so line numbers stay those of the file.
  // The build makes the bundle ASCII (scripts/build.mjs): read as Latin-1 it needs no UTF-8 decoding
  // (1.8 MB: 1–2.5 ms less); anything else is read as UTF-8.
  const bytes = readFileSync(file);
  const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const source = `(function (exports, require, module, __filename, __dirname) {${text}\n})`;
  const script = new vm.Script(source, { filename: file, cachedData });
  trace('code cache %s: %s', path.basename(cacheFile), cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used');
  if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => writeCache(script, cacheFile));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, file, path.dirname(file));
  return module.exports;
}

/**
 * V8 flags the engine changes while it runs (cli/heap-sizing.ts, kernel/host/worker-host.ts), at their
 * defaults again. V8 stamps a code cache with a hash of every flag not at its default and rejects it
 * under other flags: written with these changed, a start's cache was rejected by every next start.
 * Flags the process was started with (the engine's --max-semi-space-size, from its supervisor) stay:
 * every next start has them too.
 */
const RUN_TIME_FLAGS_AT_DEFAULT = '--memory-reducer --heap-growing-percent=0';

function writeCache(script, cacheFile) {
  // The process is exiting: the flags no longer matter to it, only to the cache's stamp.
  v8.setFlagsFromString(RUN_TIME_FLAGS_AT_DEFAULT);
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  } catch {
    rmSync(tmp, { force: true });
  }
}
