/**
 * kernel/osc/reply-bounds.ts: what an /error may quote, which characters it may carry, and how a text
 * reply is made to fit a datagram — pure functions, checked against the real OSC encoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boundError,
  boundQuotes,
  cleanText,
  clipLines,
  clipText,
  fitTextArgs,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_QUOTE_CHARS,
  oscMessageSize,
} from '../../kernel/osc/reply-bounds.ts';
import { encodeMessage, type OscSendArg } from '../../kernel/osc/osc-transport.ts';

/** Seeded, so every run checks the same inputs. */
function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

test('cleanText escapes NUL and control characters, keeps newlines and tabs unless single-line', () => {
  assert.equal(cleanText('a\0b\u0001c\u001b[31md\u007f\u0085'), 'a\\u0000b\\u0001c\\u001b[31md\\u007f\\u0085');
  assert.equal(cleanText('line 1\n\tline 2\r'), 'line 1\n\tline 2\\u000d');
  assert.equal(cleanText('/a\nb', true), '/a\\u000ab');
  assert.equal(cleanText('pair \ud83c\udfb5 lone \ud83c end \udfb5'), 'pair \ud83c\udfb5 lone \ufffd end \ufffd');
});

test('clipText cuts with an ellipsis and never splits a surrogate pair', () => {
  assert.equal(clipText('abcdef', 10), 'abcdef');
  assert.equal(clipText('abcdef', 4), 'abc…');
  const notes = '\ud83c\udfb5'.repeat(10);
  const cut = clipText(notes, 6);
  assert.ok(cut.length <= 6);
  assert.equal(cut, `${'\ud83c\udfb5'.repeat(2)}…`);
});

test('boundQuotes cuts every quote of a long input, verbatim or JSON-escaped, to MAX_QUOTE_CHARS', () => {
  const long = 'q'.repeat(60_000);
  const bounded = boundQuotes(`no parameter /mod/${long}; and again "${long}"`, [long]);
  assert.equal(bounded.match(/q+/g)?.every((run) => run.length <= MAX_QUOTE_CHARS), true);
  assert.match(bounded, /\(60000 characters\)/);
  const controls = '\u0001'.repeat(20_000);
  const escaped = boundQuotes(`got ${JSON.stringify(controls)}`, [controls]);
  assert.ok(escaped.length < 400, `${escaped.length} characters`);
  // A stretch of the input (trimmed, or cut by the handler) is found too.
  const rand = rng(3);
  const letters = Array.from({ length: 30_000 }, () => 'BCDFGHJKLMNPQRSTVWXZ'[Math.floor(rand() * 20)]).join('');
  const stretch = boundQuotes(`no parameter /mod/${letters.slice(7, 25_000)} (target unchanged)`, [`\t${letters}\n`]);
  assert.ok(Math.max(...(stretch.match(/[BCDFGHJKLMNPQRSTVWXZ]+/g) ?? []).map((r) => r.length)) <= MAX_QUOTE_CHARS, stretch.slice(0, 300));
  assert.match(stretch, /…\(30002 characters\) \(target unchanged\)$/);
  // Short inputs are quoted as they are.
  assert.equal(boundQuotes('got "int32"', ['int32']), 'got "int32"');
});

test('boundError: the address and the message bounded, control characters escaped, any code made a string', () => {
  const address = `/mod/${'z'.repeat(65_000)}\0`;
  const e = boundError(address, undefined, `no route ${address}; /engine/routes lists them`, []);
  assert.ok(e.address.length <= MAX_QUOTE_CHARS + 1);
  assert.equal(e.code, 'OSC_HANDLER_FAILED');
  assert.ok(!/z{201}/.test(e.message), 'the address is quoted at most 200 characters');
  assert.ok(!/[\u0000-\u0008\u000b-\u001f]/.test(e.address + e.code + e.message));
  const weird = boundError('/x', 'CODE\nWITH NEWLINE', 'm'.repeat(100_000));
  assert.equal(weird.code, 'CODE\\u000aWITH NEWLINE');
  assert.equal(weird.message.length, MAX_ERROR_MESSAGE_CHARS);
});

test('clipLines keeps the first problem lines and the hint, and says how many lines were left out', () => {
  const lines = ['PATTERN_INVALID: slot_001.json is refused:', ...Array.from({ length: 3000 }, (_, i) => `  slot_001.json: field${i}: unknown key`), 'Nothing was changed.'];
  const clipped = clipLines(lines.join('\n'), 2000);
  assert.ok(clipped.length <= 2000);
  const out = clipped.split('\n');
  assert.equal(out[0], lines[0]);
  assert.equal(out.at(-1), 'Nothing was changed.');
  assert.match(out.at(-2)!, /^ {2}… and \d+ more lines$/);
  const left = Number(/(\d+) more/.exec(out.at(-2)!)?.[1]);
  assert.equal(out.length - 2 + left, lines.length - 1, 'every line is either shown or counted');
});

test('oscMessageSize equals the encoded size for every kind of argument, and names what cannot be encoded', () => {
  const rand = rng(7);
  const pick = (): OscSendArg => {
    const k = Math.floor(rand() * 9);
    const text = () => Array.from({ length: Math.floor(rand() * 40) }, () => String.fromCodePoint(1 + Math.floor(rand() * (rand() < 0.8 ? 127 : 0x1ffff)))).join('').replace(/[\ud800-\udfff]/g, 'x');
    switch (k) {
      case 0: return rand() * 1000;
      case 1: return { type: 'i', value: Math.floor(rand() * 1e6) };
      case 2: return text();
      case 3: return new Uint8Array(Math.floor(rand() * 9));
      case 4: return rand() < 0.5;
      case 5: return null;
      case 6: return [text(), rand()];
      case 7: return { type: 'h', value: Math.floor(rand() * 2 ** 40) };
      default: return { type: 's', value: text() };
    }
  };
  for (let n = 0; n < 500; n++) {
    const address = `/a${'b'.repeat(Math.floor(rand() * 9))}`;
    const args = Array.from({ length: Math.floor(rand() * 6) }, pick);
    assert.equal(oscMessageSize(address, args), encodeMessage(address, args).length, JSON.stringify(args));
  }
  assert.match(String(oscMessageSize('/x', ['a\0b'])), /argument 1 contains a NUL/);
  assert.match(String(oscMessageSize('/x', [{ type: 'i', value: 2 ** 40 }])), /not an int32/);
  assert.match(String(oscMessageSize('/x', [{ type: 'h', value: 2 ** 60 }])), /not a safe integer/);
  assert.match(String(oscMessageSize('/x', [undefined])), /has no OSC type/);
});

test('fitTextArgs makes an /error fit any budget it can, cleaning what OSC cannot carry', () => {
  const args = ['/mod/voice1/freq', 'OSC_BAD_ARGS', `bad \0 input ${'é'.repeat(40_000)}`];
  for (const max of [64, 100, 512, 1500, 65_507]) {
    const fixed = oscMessageSize('/error', ['', '', '']) as number;
    const fitted = fitTextArgs(args, max - fixed + 12);
    if (max < fixed + 12) continue;
    assert.ok(fitted, `fits ${max}`);
    const bytes = encodeMessage('/error', fitted as OscSendArg[]);
    assert.ok(bytes.length <= max, `${bytes.length} > ${max}`);
  }
  assert.equal(fitTextArgs(['x'.repeat(100)], 3), null, 'not even an empty string fits in 3 bytes');
});
