/**
 * Data a control half derives from its files at every start — the sampler's decoded samples with
 * their octaves — kept on disk by the hash of everything it is made from, so an unchanged file is
 * not worked out again (control thread; the sampler's kit cost a start ≈ 40 ms of a core).
 *
 * The key is a SHA-256 of the parts the caller names (the file's bytes, the sample rate, the text of
 * the functions that compute it) and of the engine build (`CHRONUS_SOURCES`, which bin/chronus.mjs
 * sets for the prebuilt dist/): SDK code the derivation calls is part of that build. Without a build
 * stamp (the sources under tsx, being edited) nothing is read or written.
 *
 * Entries are files in node_modules/.cache/chronus/derived/ (or $CHRONUS_CACHE_DIR/derived), named
 * by the key, holding the key again and a SHA-256 of the data: a damaged, truncated or foreign file
 * reads as no entry. Written under a temporary name and renamed; a failure to read or write only
 * means the data is worked out again. The folder can be deleted at any time.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Loaded on first use: the audio thread's bundle holds the SDK too and never needs them.
const crypto = () => import('node:crypto');
const fs = () => import('node:fs/promises');

/** Plenty for a few kits of a few versions; the least recently written go beyond it. */
const MAX_ENTRIES = 256;
const MAGIC = 'chronus-derived-1\n';
const HASH_BYTES = 32;

/** This file sits one level below the package root, as the prebuilt bundles in dist/ do. */
function cacheFolder(): string {
  const base = process.env.CHRONUS_CACHE_DIR;
  if (base) return path.join(base, 'derived');
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.cache', 'chronus', 'derived');
}

/** The key of data made from `parts` under this engine build, or null when nothing may be cached (no build stamp). */
export async function derivedKey(parts: readonly (string | Uint8Array)[]): Promise<string | null> {
  const build = process.env.CHRONUS_SOURCES;
  if (!build) return null;
  const { createHash } = await crypto();
  const hash = createHash('sha256').update(`${build}\0${parts.length}\0`);
  // Each part's length first, so no two lists of parts hash the same bytes.
  for (const part of parts) hash.update(`${typeof part === 'string' ? 's' : 'b'}${part.length}\0`).update(part);
  return hash.digest('hex');
}

const sha256 = async (data: Uint8Array): Promise<Buffer> => (await crypto()).createHash('sha256').update(data).digest();

/** The data kept under `key`, or null (none, or a file that is not whole and ours). */
export async function readDerived(key: string | null): Promise<Uint8Array | null> {
  if (key === null) return null;
  let file: Buffer;
  try {
    file = await (await fs()).readFile(path.join(cacheFolder(), `${key}.bin`));
  } catch {
    return null;
  }
  const head = MAGIC.length + 2 * HASH_BYTES;
  if (file.length < head || file.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  if (file.toString('hex', MAGIC.length, MAGIC.length + HASH_BYTES) !== key) return null;
  const data = file.subarray(head);
  return (await sha256(data)).equals(file.subarray(MAGIC.length + HASH_BYTES, head)) ? data : null;
}

/** Keeps `data` under `key` (nothing when `key` is null); never throws. */
export async function writeDerived(key: string | null, data: Uint8Array): Promise<void> {
  if (key === null) return;
  const dir = cacheFolder();
  const file = path.join(dir, `${key}.bin`);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const { mkdir, rename, rm, writeFile } = await fs();
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, Buffer.concat([Buffer.from(MAGIC, 'latin1'), Buffer.from(key, 'hex'), await sha256(data), data]));
    await rename(tmp, file);
    await pruneOldest(dir);
  } catch {
    // A read-only install or a full disk: the data is worked out again next time.
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

async function pruneOldest(dir: string): Promise<void> {
  const { readdir, rm, stat } = await fs();
  const names = (await readdir(dir)).filter((n) => n.endsWith('.bin'));
  if (names.length <= MAX_ENTRIES) return;
  const aged = await Promise.all(names.map(async (n) => ({ file: path.join(dir, n), at: (await stat(path.join(dir, n)).catch(() => null))?.mtimeMs ?? 0 })));
  aged.sort((a, b) => a.at - b.at);
  await Promise.all(aged.slice(0, names.length - MAX_ENTRIES).map((e) => rm(e.file, { force: true })));
}
