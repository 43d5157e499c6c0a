// `npm run build` (also run by `npm install` as `prepare`): the CLI and the workers, each prebuilt
// into one file in dist/ with esbuild (the workers ESM, the CLI CommonJS for its code cache: bin/
// code-cache.mjs), so a start or a render does not transpile the TypeScript again (tsx costs about
// 0.3 s per start; README "Measured"). Dependencies stay in node_modules. bin/chronus.mjs falls back
// to tsx whenever dist/ does not match the sources.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { lazyBuiltins } from './lazy-builtins.mjs';
import { sourcesHash } from './sources-hash.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
mkdirSync(dist, { recursive: true });
const hash = sourcesHash(root);
const common = {
  absWorkingDir: root,
  outdir: dist,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Pure-JS dependencies go into the bundle (one file compiles faster than hundreds of modules
  // resolved one by one); native addons, esbuild and tsx stay in node_modules, and osc.js too (loaded
  // lazily, with optional transports of its own).
  external: ['naudiodon', 'esbuild', 'tsx', 'osc'],
  sourcemap: 'linked',
  logLevel: 'warning',
};
await esbuild.build({
  ...common,
  entryPoints: { supervisor: 'cli/supervisor.ts', 'audio-worker': 'kernel/audio/audio-worker-main.ts', 'staging-worker': 'kernel/plugins/staging-worker-main.ts', 'device-output': 'kernel/audio/backends/device-output-main.ts' },
  outExtension: { '.js': '.mjs' },
  format: 'esm',
  // Bundled CommonJS code calls require() for Node's built-ins.
  banner: { js: "import { createRequire as __chronusRequire } from 'node:module'; const require = __chronusRequire(import.meta.url);" },
});
// The CLI as CommonJS: bin/code-cache.mjs runs it with a V8 code cache (Node 20 has none for ES
// modules). `import.meta.url` is the bundle's own URL, as it is in an ES module; import() becomes require().
await esbuild.build({
  ...common,
  entryPoints: { chronus: 'cli/main.ts' },
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  define: { 'import.meta.url': '__chronusUrl' },
  supported: { 'dynamic-import': false },
  plugins: [lazyBuiltins],
  banner: { js: "const __chronusUrl = require('node:url').pathToFileURL(__filename).href;" },
});
/**
 * esbuild keeps some comments (magic comments in expressions), and with them non-ASCII characters
 * (—, …, ·) that make Node read a whole bundle as a two-byte string: reading the 1.8 MB CLI bundle
 * took ≈ 10 ms instead of 1, and V8 then scans twice the bytes. Each such character becomes '?' (one
 * UTF-16 unit for one, so source-map columns stay right), once esbuild has shown that only comments
 * hold them: the code with its whitespace and comments minified away is the same before and after.
 * Otherwise the file is left as it is.
 */
function asciiOnly(file) {
  const code = readFileSync(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(code)) return;
  const ascii = code.replace(/[^\x00-\x7f]/g, '?');
  const bare = (text) => esbuild.transformSync(text, { loader: 'js', minifyWhitespace: true, charset: 'ascii' }).code;
  if (bare(ascii) === bare(code)) writeFileSync(file, ascii);
  else process.stdout.write(`chronus: ${path.basename(file)} keeps non-ASCII characters outside comments (read as a two-byte string)\n`);
}
for (const name of ['chronus.cjs', 'supervisor.mjs', 'audio-worker.mjs', 'staging-worker.mjs', 'device-output.mjs']) asciiOnly(path.join(dist, name));
// A code cache of an older bundle is rejected by V8 anyway; it goes so that nothing stale lies about.
for (const name of readdirSync(dist)) if (name.endsWith('.v8cache')) rmSync(path.join(dist, name), { force: true });
rmSync(path.join(dist, 'chronus.mjs'), { force: true });
rmSync(path.join(dist, 'chronus.mjs.map'), { force: true });
// The stamp last, atomically: an interrupted build leaves no stamp that matches.
writeFileSync(path.join(dist, 'sources.sha256.tmp'), hash);
renameSync(path.join(dist, 'sources.sha256.tmp'), path.join(dist, 'sources.sha256'));
process.stdout.write(`chronus: built dist/ (sources ${hash.slice(0, 12)})\n`);
