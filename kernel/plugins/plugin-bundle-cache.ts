/**
 * A disk cache of plugin bundles (control thread). A bundle is a pure function of the files esbuild
 * read (by their paths inside the plugin folder: bundles are built relative to it) and the bundler's
 * options, so entries are content-addressed: the key is the entry file's name and content, and an
 * entry holds the SHA-256 of every other input, used only while all of them still match. An edited,
 * newly imported or deleted file misses; a copy of an unchanged plugin folder hits. It saves
 * esbuild's start and build (≈ 70–150 ms) at every engine start and render.
 *
 * Entries are JSON files in node_modules/.cache/chronus/plugins/ (or $CHRONUS_CACHE_DIR), written by
 * rename so readers never see half a file, the oldest removed beyond MAX_ENTRIES. Any failure to read
 * or write the cache only means a build: the folder can be deleted at any time.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { cacheDir, writeCacheFile } from '../../plugin-sdk/cache-files.ts';

/** Plenty for every plugin a user has, in a few versions each. */
const MAX_ENTRIES = 256;
/** Files changed this recently before a build are not cached (2 s: FAT's timestamp step). */
const MTIME_MARGIN_MS = 2000;

const EntrySchema = z.object({
  /** Paths relative to the plugin folder, with their content hashes. */
  inputs: z.array(z.object({ file: z.string(), sha256: z.string() })),
  code: z.string(),
});

export interface CachedBundle {
  code: string;
  /** Absolute paths of every file the bundle was made from. */
  inputs: string[];
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function entryFile(folder: string, entry: string, identity: string): string {
  const key = sha256([identity, entry, sha256(readFileSync(path.join(folder, entry)))].join('\0'));
  return path.join(cacheDir('plugins'), `${key.slice(0, 32)}.json`);
}

/** The cached bundle if every input file still has the content it was built from, else null. */
export function readCachedBundle(folder: string, entry: string, identity: string): CachedBundle | null {
  try {
    const cached = EntrySchema.parse(JSON.parse(readFileSync(entryFile(folder, entry, identity), 'utf8')));
    const inputs: string[] = [];
    for (const input of cached.inputs) {
      const file = path.resolve(folder, input.file);
      if (sha256(readFileSync(file)) !== input.sha256) return null;
      inputs.push(file);
    }
    return { code: cached.code, inputs };
  } catch {
    return null;
  }
}

/**
 * Stores a fresh bundle with the hashes of its inputs as they are now — unless an input changed
 * since shortly before the build began (`builtFrom`, ms since the epoch), when the content esbuild
 * read may not be the content hashed here (a save during the build).
 */
export function writeCachedBundle(folder: string, entry: string, identity: string, bundle: CachedBundle, builtFrom: number): void {
  try {
    if (bundle.inputs.some((file) => statSync(file).mtimeMs >= builtFrom - MTIME_MARGIN_MS)) return;
    const inputs = bundle.inputs.map((file) => ({ file: path.relative(folder, file), sha256: sha256(readFileSync(file)) }));
    writeCacheFile(entryFile(folder, entry, identity), JSON.stringify({ inputs, code: bundle.code }), MAX_ENTRIES);
  } catch {
    // Read-only node_modules or a full disk: the next start builds again.
  }
}
