/**
 * The disk caches' shared files (plugin-sdk/cache-files.ts): entries written by rename, the oldest
 * pruned with slack (a full folder does not stat every entry at every write), sealed entries read
 * only while whole and under their own key, and a folder that cannot be written is no error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, readSealed, sha256, writeCacheFile, writeSealed } from '../../plugin-sdk/cache-files.ts';
import { tempCache } from '../helpers/temp-cache.ts';

test('a full folder is pruned to three quarters of its count, oldest first, and then left alone until full again', (t) => {
  tempCache(t, 'cache-files');
  const dir = cacheDir('trials');
  const max = 8;
  const at = Date.now() / 1000 - 1000;
  for (let i = 0; i < max; i++) {
    writeCacheFile(path.join(dir, `${i}.json`), String(i), max);
    utimesSync(path.join(dir, `${i}.json`), at + i, at + i);
  }
  writeFileSync(path.join(dir, 'other.bin'), 'not an entry of this kind');
  assert.equal(readdirSync(dir).length, max + 1, 'at the count: nothing removed');
  writeCacheFile(path.join(dir, 'new.json'), 'new', max);
  const left = readdirSync(dir).sort();
  assert.deepEqual(left, ['3.json', '4.json', '5.json', '6.json', '7.json', 'new.json', 'other.bin'], 'the three oldest went: six entries of eight left');
  writeCacheFile(path.join(dir, 'next.json'), 'next', max);
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.json')).length, 7, 'below the count again: nothing pruned');
  assert.equal(readFileSync(path.join(dir, 'next.json'), 'utf8'), 'next');
  assert.ok(!readdirSync(dir).some((n) => n.endsWith('.tmp')), 'no temporary file left');
});

test('a sealed entry is read only under its key and while whole', (t) => {
  tempCache(t, 'cache-sealed');
  const file = path.join(cacheDir('derived'), 'entry.bin');
  const key = sha256('the key');
  const data = Buffer.from('some derived data');
  writeSealed(file, key, data, 4);
  assert.ok(readSealed(file, key)?.equals(data), 'read back as written');
  assert.equal(readSealed(file, sha256('another key')), undefined, 'another key: none');
  const whole = readFileSync(file);
  writeFileSync(file, whole.subarray(0, whole.length - 1));
  assert.equal(readSealed(file, key), undefined, 'truncated: none');
  const flipped = Buffer.from(whole);
  flipped[flipped.length - 1] ^= 1;
  writeFileSync(file, flipped);
  assert.equal(readSealed(file, key), undefined, 'a byte changed: none');
  assert.equal(readSealed(path.join(cacheDir('derived'), 'missing.bin'), key), undefined, 'no file: none');
});

test('a folder that cannot be made only means no entry', (t) => {
  const { cache } = tempCache(t, 'cache-unwritable');
  // The cache folder's place is taken by a file: making the folder fails, even for root.
  writeFileSync(cache, 'a file where the folder would be');
  const file = path.join(cacheDir('code'), 'a.v8cache');
  assert.doesNotThrow(() => writeCacheFile(file, 'a', 4));
  assert.doesNotThrow(() => writeSealed(file, sha256('k'), Buffer.from('data'), 4));
  assert.equal(readSealed(file, sha256('k')), undefined);
  assert.equal(readFileSync(cache, 'utf8'), 'a file where the folder would be', 'the file is untouched');
});
