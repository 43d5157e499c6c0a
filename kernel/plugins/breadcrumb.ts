/**
 * Which plugin's control half the control thread is running, written down for the supervisor
 * (cli/supervisor.ts). A control half runs on this thread, so what no time limit can stop — an
 * allocation that exhausts the heap, a loop of awaits — ends or freezes the whole process. Before
 * each call into one its id goes into a small file, and after the call what is left: the caller's
 * entry, or that it returned with work still pending. When the engine dies or stops answering, the
 * supervisor reads the file to say which plugin did it and starts the engine again without it.
 *
 * Only under the supervisor, which names the file in CHRONUS_BREADCRUMB. One positioned write of a
 * fixed-size record per entry and exit, synchronous, so it is on disk before the plugin's code runs.
 */
import { openSync, writeSync } from 'node:fs';
import { isThenable } from '../base/is-thenable.ts';

/** What the file holds: inside a call, or the last call left with a promise pending. */
export type Breadcrumb = { in: string } | { left: string; pending: boolean } | Record<string, never>;

/** Records are padded to this many bytes, so a shorter one overwrites a longer one whole. */
export const BREADCRUMB_BYTES = 128;

let fd: number | null | undefined;
/** Plugin ids of the calls under way, innermost last (a control half can drive another's route). */
const stack: string[] = [];

function write(crumb: Breadcrumb): void {
  if (fd === undefined) {
    const file = process.env.CHRONUS_BREADCRUMB;
    try {
      fd = file ? openSync(file, 'w') : null;
    } catch {
      fd = null;
    }
  }
  if (fd === null) return;
  try {
    writeSync(fd, JSON.stringify(crumb).padEnd(BREADCRUMB_BYTES), 0);
  } catch {
    // A breadcrumb is a diagnosis aid: the call goes ahead without it.
  }
}

/**
 * Runs `fn` — plugin `pluginId`'s code on this thread — with the breadcrumb naming it; after it
 * returns (or throws), what is left: the caller's entry, or that it returned a promise still pending.
 */
export function inPlugin<T>(pluginId: string, fn: () => T): T {
  stack.push(pluginId);
  write({ in: pluginId });
  let pending = false;
  try {
    const result = fn();
    pending = isThenable(result);
    return result;
  } finally {
    stack.pop();
    const outer = stack.at(-1);
    write(outer === undefined ? { left: pluginId, pending } : { in: outer });
  }
}

/** Reads a breadcrumb file (the supervisor, after the engine ended): {} when absent or unreadable. */
export function parseBreadcrumb(text: string): Breadcrumb {
  try {
    const v = JSON.parse(text.trim()) as Record<string, unknown>;
    if (typeof v.in === 'string') return { in: v.in };
    if (typeof v.left === 'string') return { left: v.left, pending: v.pending === true };
  } catch {
    // Torn or empty.
  }
  return {};
}
