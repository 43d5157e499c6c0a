#!/usr/bin/env node
// Entry point. naudiodon's writes share libuv's thread pool with file I/O, so the pool is widened
// before anything starts (DESIGN.md: 8 or more). The engine runs from dist/ (prebuilt by
// `npm run build`, which `npm install` runs) while dist/ matches the sources; otherwise, or with
// CHRONUS_DIST=0, the TypeScript itself runs under tsx (`node --enable-source-maps bin/chronus.mjs`
// maps stack traces from dist/ back to the sources).
// Built-ins come from process.getBuiltinModule, not `import`: each built-in an ES module imports gets
// a module facade of its own (≈ 1 ms apiece at start).
import { sourcesHash } from '../scripts/sources-hash.mjs';
import { runWithCodeCache } from './code-cache.mjs';

const { readFileSync } = process.getBuiltinModule('node:fs');
const { fileURLToPath } = process.getBuiltinModule('node:url');

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '8';
const root = new URL('..', import.meta.url);

/** The stamp of dist/ when it matches the sources, else null. */
function currentDist() {
  if (process.env.CHRONUS_DIST === '0') return null;
  try {
    const stamp = readFileSync(new URL('dist/sources.sha256', root), 'utf8');
    return stamp === sourcesHash(fileURLToPath(root)) ? stamp : null;
  } catch {
    return null;
  }
}

const stamp = currentDist();
process.env.CHRONUS_RUNTIME = stamp ? 'dist' : 'tsx';
// Names the engine build: what a trial passed under is valid for it only (kernel/plugins/trial-cache.ts).
if (stamp) process.env.CHRONUS_SOURCES = stamp;
else delete process.env.CHRONUS_SOURCES;
// `chronus start` runs the engine under a supervisor (cli/supervisor.ts), which needs none of the
// engine: it starts at once, and only the child loads the engine (cli/start.ts decides the same where
// this cannot: options first).
const supervising = process.argv[2] === 'start' && process.env.CHRONUS_SUPERVISED !== '1' && process.env.CHRONUS_AUDIO !== 'offline';
if (process.env.CHRONUS_RUNTIME === 'dist') {
  if (supervising) process.exitCode = await (await import('../dist/supervisor.mjs')).supervise(process.argv.slice(1));
  else runWithCodeCache(fileURLToPath(new URL('dist/chronus.cjs', root)), ['start', 'render'].includes(process.argv[2]) ? process.argv[2] : 'other');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  if (supervising) process.exitCode = await (await import('../cli/supervisor.ts')).supervise(process.argv.slice(1));
  else await import('../cli/main.ts');
}
