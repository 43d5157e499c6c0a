/**
 * One error catalogue (kernel/base/errors.ts): every code the kernel, its transport and the CLI
 * write is in it with a default hint, and a ChronusError's message (what /error carries) is unchanged
 * by the default: only a hint given on the spot is part of it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ChronusError, ErrorCode, errorHint } from '../../kernel/base/errors.ts';
import { PROJECT_ROOT } from '../helpers/offline-engine.ts';

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) sources(full, out);
    else if (e.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

test('every code has a hint, and each code is its own name', () => {
  for (const [name, code] of Object.entries(ErrorCode)) {
    assert.equal(code, name);
    assert.ok((errorHint(code) ?? '').length > 10, `${code} has a hint`);
  }
  assert.equal(errorHint('LFO_UNKNOWN_TARGET'), undefined, "a plugin's own code is not the kernel's");
});

test('no code is written as a string literal outside the catalogue (kernel and cli)', () => {
  const stray: string[] = [];
  const codes = new Set(Object.keys(ErrorCode));
  for (const dir of ['kernel', 'cli']) {
    for (const file of sources(path.join(PROJECT_ROOT, dir))) {
      if (file.endsWith(path.join('base', 'errors.ts'))) continue;
      // The recorder's control side keeps its own codes until it moves into plugins/recorder.
      if (file.includes(path.join('control', 'recording'))) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) {
        if (codes.has(m[1])) stray.push(`${path.relative(PROJECT_ROOT, file)}: '${m[1]}' (use ErrorCode.${m[1]})`);
      }
    }
  }
  assert.deepEqual(stray, []);
});

test("a ChronusError carries the code's default hint, and its message (what /error sends) stays as it was", () => {
  const plain = new ChronusError(ErrorCode.PLUGIN_UNKNOWN, 'no plugin "foo" is loaded');
  assert.equal(plain.message, 'PLUGIN_UNKNOWN: no plugin "foo" is loaded');
  assert.equal(plain.hint, errorHint('PLUGIN_UNKNOWN'));
  const given = new ChronusError(ErrorCode.PLUGIN_UNKNOWN, 'bad', { details: ['x: y'], hint: 'Do this.' });
  assert.equal(given.message, 'PLUGIN_UNKNOWN: bad\n  x: y\nDo this.');
  assert.equal(given.hint, 'Do this.');
});
