/**
 * Sessions: a live session on the null backend with the recorder on — voices with every waveform
 * (noise included), the sequencer, LFOs, a pattern load, two hot reloads (one rolled back), a bypass,
 * OSC bundles timed in the future, markers — then `chronus render --session` renders it again, and
 * the result equals the recorder's recordings sample for sample (int24 and float32), whole and
 * `--from/--to`; the same after SIGKILL of the engine mid-session.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CMD_START } from '../plugins/recorder/protocol.ts';
import { readJournal, type Journal } from '../cli/session/read.ts';
import { chronus, firstDifference, Live, peak, sessionRoot, wavChannels } from './helpers/session.ts';

let root = '';
before(async () => {
  root = await sessionRoot();
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const sessionsOf = async () => (await readdir(path.join(root, 'sessions'))).filter((n) => /^\d{8}_\d{6}/.test(n)).sort();
/** The frames at which the recorder's audio half was armed: each recording's first frame. */
const recordingStarts = (j: Journal) => j.calls.filter((c) => c.m === 'command' && c.a[0] === 'recorder' && c.a[1] === CMD_START && c.x === undefined).map((c) => c.f);
const recordedPath = (replies: { address: string; args: unknown[] }[]) => String(replies.find((r) => r.address === '/engine/record/started')?.args[0]);

/** Save an edit of the tone plugin and wait until the engine reloaded it. */
async function toneEdit(live: Live, file: string, source: string, edit: (s: string) => string): Promise<void> {
  const seen = live.waitFor('/engine/plugin/reloaded', (r) => r.args[0] === 'tone');
  await writeFile(file, edit(source));
  await seen;
}

test('a live session replays sample for sample: whole (int24, float32) and --from/--to between markers', async () => {
  const live = await Live.start(root);
  const toneFile = path.join(root, 'plugins/tone/index.ts');
  const toneSource = await readFile(toneFile, 'utf8');
  let recA = '';
  let recB = '';
  try {
    const startedA = await live.send('/engine/record/start', 'a', 'int24');
    recA = recordedPath(startedA);
    // Every waveform: sine, saw, square, white, pink, brown noise.
    for (let v = 1; v <= 6; v++) {
      await live.send(`/mod/voice${v}/osc/type`, { type: 'i', value: v - 1 });
      await live.send(`/mod/voice${v}/freq`, 110 * v + 0.5);
      await live.send(`/mod/voice${v}/amp`, 0.08);
      await live.send(`/gate/voice${v}`, { type: 'i', value: 1 });
    }
    await live.send('/gate/tone1', { type: 'i', value: 1 });
    await live.send('/mod/tone1/amp', 0.1);
    await live.send('/mod/lfo1/target', '/mod/voice1/filter/freq');
    await live.send('/mod/lfo2/target', '/mod/voice2/amp');
    await live.send('/seq/add', 'kick', 'drum1', 'X...x...X...x...');
    await live.send('/seq/add', 'bass', 'voice7', 'x.x.x.xx', { type: 'i', value: 110 }, { type: 'i', value: 400 }, 'C2 Eb2 G1');
    await live.send('/seq/bpm', { type: 'i', value: 140 });
    await live.send('/seq/start');
    // Bundles timed in the future land on their sample, live and in the replay.
    live.bundle(300, [{ address: '/gate/voice8', args: [{ type: 'i', value: 1 }] }, { address: '/mod/voice8/freq', args: [{ type: 'f', value: 660 }] }]);
    live.bundle(700, [{ address: '/mod/voice8/filter/freq', args: [{ type: 'f', value: 900 }] }]);
    await live.send('/pattern/save', { type: 'i', value: 3 }, 'jam');
    await live.send('/engine/session/mark', 'verse');
    await live.send('/mod/voice3/amp', 0.02);
    await live.send('/pattern/load', { type: 'i', value: 3 }, 'immediate');
    // Hot reload 1: tone at half level; reload 2 fails live after its trial and is rolled back.
    await toneEdit(live, toneFile, toneSource, (s) => s.replace('const s = g * Math.sin(2 * Math.PI * ph);', 'const s = 0.5 * g * Math.sin(2 * Math.PI * ph);'));
    const rolledBack = live.waitFor('/engine/error', (r) => r.args[0] === 'tone' && /rolled back/.test(String(r.args[2])));
    await toneEdit(
      live,
      toneFile,
      toneSource,
      (s) =>
        s
          .replace('const dt = 1 / ctx.sampleRate;', 'const dt = 1 / ctx.sampleRate; let rendered = 0;')
          .replace('for (let m = 0; m < n; m++) {', "rendered += end - start; if (rendered > 1.2 * ctx.sampleRate) throw new Error('late failure'); for (let m = 0; m < n; m++) {")
          .replace('const s = g * Math.sin(2 * Math.PI * ph);', 'const s = 0.25 * g * Math.sin(2 * Math.PI * ph);'),
    );
    await rolledBack;
    // A bypass: glitch throws once its amp passes 0.9.
    const bypassed = live.waitFor('/engine/error', (r) => r.args[0] === 'glitch' && /bypassed/.test(String(r.args[2])));
    await live.send('/mod/glitch1/amp', 1);
    await bypassed;
    await live.send('/engine/session/mark', 'chorus');
    await live.send('/gate/voice4', { type: 'i', value: 0 });
    await live.send('/engine/record/stop');
    const startedB = await live.send('/engine/record/start', 'b', 'float32');
    recB = recordedPath(startedB);
    await live.send('/mod/voice5/osc/type', { type: 'i', value: 1 });
    live.bundle(200, [{ address: '/gate/voice5', args: [{ type: 'i', value: 0 }] }]);
    await live.send('/seq/swing', 0.3);
    await new Promise((r) => setTimeout(r, 800));
    await live.send('/engine/session/mark', 'outro');
    await live.send('/engine/record/stop');
  } finally {
    await live.close();
    await writeFile(toneFile, toneSource);
  }

  const [id] = await sessionsOf();
  const journal = readJournal(path.join(root, 'sessions', id));
  assert.equal(journal.ended, true, 'closed cleanly');
  assert.ok(journal.logs.some((l) => /rolled back/.test(l.text)) && journal.logs.some((l) => /bypassed/.test(l.text)), 'the rollback and the bypass are in the journal');
  assert.deepEqual(journal.marks.map((m) => m.label), ['verse', 'chorus', 'outro']);
  // The rollback and the bypass with the audio thread's frame: after the second reload of tone swapped in, before the chorus marker.
  const toneLoads = journal.calls.filter((c) => c.m === 'load' && (c.a[0] as { pluginId?: string }).pluginId === 'tone' && c.x === undefined);
  const [rollback] = journal.faults.filter((f) => f.plugin === 'tone');
  const [bypass] = journal.faults.filter((f) => f.plugin === 'glitch');
  assert.equal(rollback?.outcome, 'rolled back');
  assert.match(rollback.text, /late failure/);
  assert.equal(bypass?.outcome, 'bypassed');
  assert.ok(toneLoads.length === 3 && toneLoads[2].f <= rollback.f && rollback.f < bypass.f && bypass.f < journal.marks[1].f, `swap ${toneLoads.at(-1)?.f}, rollback ${rollback.f}, bypass ${bypass.f}, chorus ${journal.marks[1].f}`);
  // The pattern load, for reading the journal: its route and slot.
  assert.ok(journal.messages.some((m) => m.address === '/pattern/load' && m.a[0] === 3 && m.x === undefined), 'the pattern load is journaled with its slot');
  const [startA, startB] = recordingStarts(journal);

  const listed = await chronus(root, ['sessions']);
  assert.match(listed.stdout, new RegExp(`${id} .* closed`));

  // Whole session, int24: recording a, sample for sample.
  const out24 = path.join(root, 'replay24.wav');
  const r24 = await chronus(root, ['render', '--session', id, '-o', out24]);
  assert.equal(r24.code, 0, r24.stderr);
  const whole24 = await wavChannels(out24);
  const a = await wavChannels(recA);
  assert.ok(a[0].length > 48000, `recording a has ${a[0].length} frames`);
  assert.ok(peak(a[0]) > 0.05, 'recording a is not silent');
  assert.equal(firstDifference(whole24, startA, a, a[0].length), -1, 'int24 replay equals recording a');

  // Float32: recording b.
  const out32 = path.join(root, 'replay32.wav');
  const r32 = await chronus(root, ['render', '--session', 'latest', '-o', out32, '--format', 'float32']);
  assert.equal(r32.code, 0, r32.stderr);
  const whole32 = await wavChannels(out32);
  const b = await wavChannels(recB);
  assert.ok(b[0].length > 24000 && peak(b[0]) > 0.05);
  assert.equal(firstDifference(whole32, startB, b, b[0].length), -1, 'float32 replay equals recording b');

  // --from/--to by marker, and by time: the same slice of the recording.
  const verse = journal.marks[0].f;
  const chorus = journal.marks[1].f;
  const slice = path.join(root, 'slice.wav');
  const rs = await chronus(root, ['render', '--session', id, '-o', slice, '--from', 'verse', '--to', 'chorus']);
  assert.equal(rs.code, 0, rs.stderr);
  const cut = await wavChannels(slice);
  assert.equal(cut[0].length, chorus - verse);
  assert.equal(firstDifference(a, verse - startA, cut, Math.min(cut[0].length, a[0].length - (verse - startA))), -1, 'the marker slice equals the recording there');
  const timed = path.join(root, 'timed.wav');
  const rt = await chronus(root, ['render', '--session', id, '-o', timed, '--from', '0:01.5', '--to', '2.5']);
  assert.equal(rt.code, 0, rt.stderr);
  const t = await wavChannels(timed);
  assert.equal(t[0].length, 48000);
  assert.equal(firstDifference(whole24, 72000, t, 48000), -1, 'a time slice equals the whole render there');

  const bad = await chronus(root, ['render', '--session', id, '-o', slice, '--from', 'nowhere']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--from 'nowhere' is neither a time .* marker label \(its markers: verse, chorus, outro\)/);
});

test('after SIGKILL the journal replays up to its last flush, equal to the recording', async () => {
  const live = await Live.start(root);
  let rec = '';
  try {
    rec = recordedPath(await live.send('/engine/record/start', 'killed', 'float32'));
    await live.send('/mod/voice1/osc/type', { type: 'i', value: 3 });
    await live.send('/gate/voice1', { type: 'i', value: 1 });
    await live.send('/seq/add', 'hats', 'drum3', 'x.x.x.x.x.x.x.x.');
    await live.send('/seq/start');
    live.bundle(400, [{ address: '/mod/voice1/osc/type', args: [{ type: 'i', value: 5 }] }]);
    await new Promise((r) => setTimeout(r, 2500));
    await live.engine.killHard();
  } finally {
    await live.close();
  }
  const id = (await sessionsOf()).at(-1)!;
  const journal = readJournal(path.join(root, 'sessions', id));
  assert.equal(journal.ended, false);
  const [start] = recordingStarts(journal);
  const out = path.join(root, 'killed.wav');
  const r = await chronus(root, ['render', '--session', id, '-o', out, '--format', 'float32']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /did not close cleanly/);
  const replay = await wavChannels(out);
  const recorded = await wavChannels(rec);
  const frames = Math.min(recorded[0].length, replay[0].length - start);
  assert.ok(frames > 48000, `${frames} frames to compare`);
  assert.ok(peak(recorded[0]) > 0.05);
  assert.equal(firstDifference(replay, start, recorded, frames), -1, 'the replay equals the recording up to the journal end');
});
