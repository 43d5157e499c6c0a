/**
 * The engine's disk caches (control thread): node_modules/.cache/chronus/<kind>/, or
 * $CHRONUS_CACHE_DIR (plugin bundles) and $CHRONUS_CACHE_DIR/<kind> (the others). Entries are files
 * written by rename; the oldest go beyond a count. Any of these folders can be deleted at any time.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

export function cacheDir(kind: 'plugins' | 'trials' | 'code'): string {
  const base = process.env.CHRONUS_CACHE_DIR;
  if (base) return kind === 'plugins' ? base : path.join(base, kind);
  return path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'chronus', kind);
}

/** Removes the least recently written entries (`extension`) of `dir` beyond `max`. */
export function pruneOldest(dir: string, max: number, extension = '.json'): void {
  const names = readdirSync(dir).filter((n) => n.endsWith(extension));
  if (names.length <= max) return;
  const byAge = names.map((n) => ({ file: path.join(dir, n), at: statSync(path.join(dir, n)).mtimeMs })).sort((a, b) => a.at - b.at);
  for (const { file } of byAge.slice(0, names.length - max)) unlinkSync(file);
}
