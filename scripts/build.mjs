// `npm run build` (also run by `npm install` as `prepare`): the CLI and the audio worker, each
// prebuilt into one ESM file in dist/ with esbuild, so a start or a render does not transpile the
// TypeScript again (tsx costs about 0.3 s per start; README "Measured"). Dependencies stay in
// node_modules. bin/chronus.mjs falls back to tsx whenever dist/ does not match the sources.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { sourcesHash } from './sources-hash.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
mkdirSync(dist, { recursive: true });
const hash = sourcesHash(root);
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { chronus: 'cli/main.ts', supervisor: 'cli/supervisor.ts', 'audio-worker': 'kernel/audio/audio-worker-main.ts', 'staging-worker': 'kernel/plugins/staging-worker-main.ts', 'device-output': 'kernel/audio/backends/device-output-main.ts' },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Pure-JS dependencies go into the bundle (one file compiles faster than hundreds of modules
  // resolved one by one); native addons, esbuild and tsx stay in node_modules, and osc.js too (loaded
  // lazily, with optional transports of its own).
  external: ['naudiodon', 'esbuild', 'tsx', 'osc'],
  // Bundled CommonJS code calls require() for Node's built-ins.
  banner: { js: "import { createRequire as __chronusRequire } from 'node:module'; const require = __chronusRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The stamp last, atomically: an interrupted build leaves no stamp that matches.
writeFileSync(path.join(dist, 'sources.sha256.tmp'), hash);
renameSync(path.join(dist, 'sources.sha256.tmp'), path.join(dist, 'sources.sha256'));
process.stdout.write(`chronus: built dist/ (sources ${hash.slice(0, 12)})\n`);
