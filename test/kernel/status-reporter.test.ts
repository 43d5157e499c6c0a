/**
 * The status file and event log (kernel/status/status-reporter.ts): written whole (temp + rename), and
 * the temp files a killed engine left behind are gone once a new one has started and stopped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OfflineEngine } from '../helpers/offline-engine.ts';
import { StatusReporter } from '../../kernel/status/status-reporter.ts';
import { EventLog } from '../../kernel/status/event-log.ts';

test("a killed engine's temp files are removed; the status file and event log are written whole", async (t) => {
  const e = await OfflineEngine.start({ only: ['voices'] });
  t.after(() => e.close());
  const file = e.engine.config.engine.statusFile;
  const dir = path.dirname(file);
  await writeFile(`${file}.tmp`, 'AUDIO: 0.0 | torn');
  await writeFile(path.join(dir, 'engine_log.txt.tmp'), 'torn');
  // No event yet: the event log is not rewritten, so only the clean-up removes its stale temp file.
  const quiet = Object.create(e.engine, { events: { value: new EventLog(() => 0) } }) as typeof e.engine;
  await StatusReporter.start(quiet).stop();
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
  assert.match(await readFile(file, 'utf8'), /^AUDIO: [\d.]+ \| MSG: \d+ \| GATES: 0 \| REC: --- \| XRUNS: \d+ \| LAST: \S* \| TIME: \d\d:\d\d:\d\d\n$/);
  // With events, the log is written whole beside it.
  e.engine.events.add('a first event');
  await StatusReporter.start(e.engine).stop();
  assert.match(await readFile(path.join(dir, 'engine_log.txt'), 'utf8'), /a first event/);
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
});
