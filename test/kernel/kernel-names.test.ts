/**
 * The kernel names no plugin (DESIGN.md): here, the recorder and the pattern slots. The recorder's
 * routes, files, protocol and settings live in plugins/recorder, the slots' in plugins/patterns; the kernel keeps only the old engine's status field `recording` (and the
 * status file's `REC:`), driven by any control half's `setStatus({ active })`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/offline-engine.ts';

const KERNEL = path.join(PROJECT_ROOT, 'kernel');
/** Where the status field `recording` (the old engine's name) may appear. */
const STATUS_FILES = new Set(['engine/engine.ts', 'status/engine-status.ts', 'status/console-format.ts']);

function sources(): string[] {
  return readdirSync(KERNEL, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|mjs)$/.test(f));
}

test('the kernel has no recorder: no recorder names, routes, folders or codes', () => {
  const found: string[] = [];
  for (const rel of sources()) {
    readFileSync(path.join(KERNEL, rel), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const where = `kernel/${rel}:${i + 1}: ${line.trim()}`;
        if (/recorder|\/record\b|\/record\/|recordings|\bRECORD_|tap:voice/i.test(line)) found.push(where);
        else if (/recording/i.test(line) && !STATUS_FILES.has(rel.split(path.sep).join('/'))) found.push(where);
      });
  }
  assert.deepEqual(found, []);
  assert.ok(sources().every((f) => !f.split(path.sep).includes('recording')), 'no recording/ folder in the kernel');
});

test('the kernel has no pattern store: pattern slots, their routes and codes live in plugins/patterns', () => {
  const found: string[] = [];
  for (const rel of sources()) {
    readFileSync(path.join(KERNEL, rel), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/\/pattern\/|slot_\d|PATTERN_INVALID|SlotDocument/.test(line)) found.push(`kernel/${rel}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(found, []);
});
