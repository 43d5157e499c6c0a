/**
 * V8 code caches of plugin bundles (control thread), so an unchanged plugin's code is not parsed and
 * compiled again at every start and render. An entry is keyed by the bundle's content and file name
 * (V8 keeps the name the code was compiled under: a copy of the folder elsewhere must not report its
 * errors at the first one's path) and holds what `vm.Script#createCachedData` made of it; V8 itself
 * rejects data made by another V8 version or under other flags. A file is used only when it names the
 * same key and its data is intact (both SHA-256 in its first 64 bytes), so a damaged or foreign file
 * is ignored and written again, never fatal.
 * Files sit beside the bundle cache (node_modules/.cache/chronus/code/), written by rename.
 *
 * Each kind of engine keeps its own entries (`kind`): V8 checks data against the flags of the process
 * that uses it, and a real-time engine changes flags (heap sizing, the audio thread's memory reducer)
 * that a render leaves alone, so each would reject, and write again, what the other wrote.
 */
import path from 'node:path';
import { cacheDir, readSealed, sha256, writeSealed } from '../../plugin-sdk/cache-files.ts';
import type { CodeCache } from './plugin-runtime.ts';

/** As many as the bundle cache keeps. */
const MAX_ENTRIES = 256;

/**
 * The key of an entry: the engine kind, the bundle's file name and its code. `2`: an offline engine's
 * entries are made as it exits (writeAtExit); those made before, of the top level only, are not used.
 */
const keyOf = (code: string, filename: string, kind: string): Buffer => sha256(`2\0${kind}\0${filename}\0${code}`);

function entryFile(key: Buffer): string {
  return path.join(cacheDir('code'), `${key.toString('hex', 0, 16)}.v8cache`);
}

/** The cached data for `code` compiled as `filename`, or undefined (none, damaged, or made for other code). */
export function readCodeCache(code: string, filename: string, kind: string): Buffer | undefined {
  const key = keyOf(code, filename, kind);
  return readSealed(entryFile(key), key);
}

/** Stores `data` for `code` compiled as `filename`; a folder that cannot be written only means no cache. */
export function writeCodeCache(code: string, filename: string, kind: string, data: Uint8Array): void {
  const key = keyOf(code, filename, kind);
  writeSealed(entryFile(key), key, data, MAX_ENTRIES);
}

/**
 * Writes an offline engine puts off until its process exits, so that each entry holds the code its run
 * compiled too (`create`, the first blocks), not only the top level: a render from an entry made
 * right after the top level still parsed and compiled ≈ 500 of the plugins' functions lazily
 * (`--log-function-events`). Bounded: beyond it (an offline engine reloading for long) at once.
 */
const atExit: (() => void)[] = [];
const MAX_AT_EXIT = 64;

function writeAtExit(write: () => void): void {
  if (atExit.length >= MAX_AT_EXIT) return write();
  if (atExit.length === 0) process.once('exit', () => atExit.splice(0).forEach((w) => w()));
  atExit.push(write);
}

/**
 * The cache of `code` compiled as `filename`, for one evaluation on the control thread of an engine of
 * `kind`: read now, written if V8 had none it could use — as the process exits for an offline engine
 * (writeAtExit), at once for a real-time one (which may run for hours), or handed to `later` (a reload
 * writes it after its swap: making and writing it took 1–40 ms of the save-to-audible time).
 */
export function codeCacheFor(code: string, filename: string, kind: 'offline' | 'real-time', later?: (write: () => void) => void): CodeCache {
  return {
    data: readCodeCache(code, filename, kind),
    store: (make) => {
      const write = () => writeCodeCache(code, filename, kind, make());
      if (later) later(write);
      else if (kind === 'offline') writeAtExit(write);
      else write();
    },
  };
}
