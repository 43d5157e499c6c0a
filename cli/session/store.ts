/**
 * The session store (control thread): one folder per run under `paths.sessions`, holding the journal
 * (`journal.ndjson` while the engine runs, `journal.ndjson.gz` once it closed cleanly), the blobs it
 * names by content hash (`blobs/<sha256>`) and, while the engine lives, `pid`. Ids are folder names
 * made here; an id given on the command line is checked against them, so no path leaves the store.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BlobSource } from './codec.ts';

export const JOURNAL = 'journal.ndjson';
export const JOURNAL_GZ = 'journal.ndjson.gz';
export const BLOBS = 'blobs';
export const PID = 'pid';

const ID_RE = /^\d{8}_\d{6}(?:_\d+)?$/;

export class SessionError extends Error {
  readonly code = 'SESSION_INVALID';
}

export interface SessionInfo {
  id: string;
  dir: string;
  /** Bytes of everything in its folder. */
  bytes: number;
  /** Still being written by a running engine (its pid file names a live process). */
  live: boolean;
  /** The journal was closed cleanly (compressed); false: the engine was killed, or still runs. */
  closed: boolean;
  modified: Date;
}

/** A new session id from the local time (`20260101_120000`), suffixed when one exists already. */
export async function newSessionDir(root: string, now = new Date()): Promise<{ id: string; dir: string }> {
  await mkdir(root, { recursive: true });
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  for (let n = 0; ; n++) {
    const id = n === 0 ? base : `${base}_${n}`;
    const dir = path.join(root, id);
    try {
      await mkdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    await mkdir(path.join(dir, BLOBS));
    return { id, dir };
  }
}

/** The folder of session `id` (`latest`: the newest), or a SessionError naming what exists. */
export function sessionDir(root: string, id: string): string {
  const ids = existsSync(root) ? readdirSync(root).filter((n) => ID_RE.test(n)).sort() : [];
  const chosen = id === 'latest' ? ids.at(-1) : ids.find((n) => n === id);
  if (chosen === undefined) {
    const known = ids.length > 0 ? `sessions here: ${ids.slice(-5).join(', ')}${ids.length > 5 ? ', …' : ''}` : 'there are no sessions yet';
    throw new SessionError(`no session '${id}' in ${root} (${known}; 'chronus sessions' lists them)`);
  }
  return path.join(root, chosen);
}

function pidAlive(dir: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(dir, PID), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(p) : (await stat(p)).size;
  }
  return total;
}

/** Every session, oldest first. */
export async function listSessions(root: string): Promise<SessionInfo[]> {
  if (!existsSync(root)) return [];
  const out: SessionInfo[] = [];
  for (const id of (await readdir(root)).filter((n) => ID_RE.test(n)).sort()) {
    const dir = path.join(root, id);
    out.push({ id, dir, bytes: await folderBytes(dir), live: pidAlive(dir), closed: existsSync(path.join(dir, JOURNAL_GZ)), modified: statSync(dir).mtime });
  }
  return out;
}

/**
 * Remove the oldest sessions until at most `maxCount` remain and they take at most `maxBytes`; a
 * session a running engine is writing (and `keep`) is never removed. Returns the ids removed.
 */
export async function pruneSessions(root: string, caps: { maxCount: number; maxBytes: number }, keep?: string): Promise<string[]> {
  const sessions = await listSessions(root);
  let count = sessions.length;
  let bytes = sessions.reduce((n, s) => n + s.bytes, 0);
  const removed: string[] = [];
  for (const s of sessions) {
    if (count <= caps.maxCount && bytes <= caps.maxBytes) break;
    if (s.live || s.id === keep) continue;
    await rm(s.dir, { recursive: true, force: true });
    removed.push(s.id);
    count--;
    bytes -= s.bytes;
  }
  return removed;
}

/** A session's blobs, read on demand (a missing one is a damaged session, said with its hash). */
export function blobSource(dir: string): BlobSource {
  return {
    get(hash) {
      if (!/^[0-9a-f]{64}$/.test(hash)) throw new SessionError(`${dir}: a journal line names a blob '${hash.slice(0, 80)}' that is no content hash`);
      try {
        return readFileSync(path.join(dir, BLOBS, hash));
      } catch {
        throw new SessionError(`${dir}: blob ${hash} is missing (the session folder is damaged)`);
      }
    },
  };
}
