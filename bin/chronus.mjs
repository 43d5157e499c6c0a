#!/usr/bin/env node
// Entry point: the engine is TypeScript run by tsx. naudiodon's writes share libuv's thread pool
// with file I/O, so the pool is widened before anything starts (DESIGN.md: 8 or more).
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '8';
const { register } = await import('tsx/esm/api');
register();
await import('../cli/main.ts');
