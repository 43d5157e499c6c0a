/**
 * For containment tests against a real engine process: status that survives a lost datagram, a
 * check that frames keep advancing (by the engine's own frame count, never by the wall clock), and
 * measures of how much of an input a reply quotes.
 */
import assert from 'node:assert/strict';
import type { EngineStatus } from '../../kernel/status/engine-status.ts';
import type { OscClient } from '../../cli/osc-client.ts';

export const HOST = '127.0.0.1';
/** What an /error may quote of one input (kernel/osc/reply-bounds.ts MAX_QUOTE_CHARS), as the tests read it. */
export const QUOTE_LIMIT = 200;

/** /engine/status, asked again if a datagram was lost on the way. */
export async function status(client: OscClient, port: number): Promise<EngineStatus> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await client.request(HOST, port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 1000 })).json as EngineStatus;
    } catch (e) {
      if (attempt === 10) throw e;
    }
  }
}

/** Asks until the engine has rendered past `frames` (bounded number of questions, not a sleep). */
export async function framesAdvancePast(client: OscClient, port: number, frames: number): Promise<EngineStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await status(client, port);
    if (s.framesRendered > frames) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the engine rendered no frame past ${frames}`);
}

/** Asks until `check` passes (bounded). */
export async function eventually<T>(ask: () => Promise<T> | T, check: (v: T) => boolean, what: string, tries = 200): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await ask();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: last ${JSON.stringify(last)?.slice(0, 500)}`);
}

/** Seeded random numbers in [0, 1). */
export function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

/** Letters no engine text runs long in: a quote of the input shows as a run of them. */
const CONSONANTS = 'BCDFGHJKLMNPQRSTVWXZ';
/** Greek letters (no µ-lookalike): engine text has none, so each one in a reply was quoted. */
const GREEK = 'αβγδεζηθικλνξοπρστυφχψω';

/** `n` random capital consonants (an ASCII input whose quotes are measured by `longestRun`). */
export function consonants(n: number, rand: () => number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += CONSONANTS[Math.floor(rand() * CONSONANTS.length)];
  return s;
}

/** `n` characters: Greek letters with every fourth a control character (measured by `greekCount`). */
export function greekWithControls(n: number, rand: () => number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += i % 4 === 3 ? String.fromCharCode(1 + Math.floor(rand() * 31)) : GREEK[Math.floor(rand() * GREEK.length)];
  return s;
}

/** The longest run of capital consonants in `text`. */
export function longestRun(text: string): number {
  let best = 0;
  for (const m of text.matchAll(/[BCDFGHJKLMNPQRSTVWXZ]+/g)) best = Math.max(best, m[0].length);
  return best;
}

/** Greek letters in `text`. */
export function greekCount(text: string): number {
  return text.match(/[αβγδεζηθικλνξοπρστυφχψω]/g)?.length ?? 0;
}

/** An /error as it arrived: three strings, no raw control characters but newline and tab, little of any input. */
export function assertBoundedError(args: readonly unknown[], what: string): void {
  assert.equal(args.length, 3, `${what}: /error <address> <code> <message>`);
  for (const a of args) assert.equal(typeof a, 'string', what);
  const text = (args as string[]).join('\n');
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text), `${what}: no raw control characters`);
  assert.ok(longestRun(text) <= QUOTE_LIMIT, `${what}: quotes ${longestRun(text)} characters of an ASCII input`);
  assert.ok(greekCount(text) <= QUOTE_LIMIT, `${what}: quotes ${greekCount(text)} characters of a Greek input`);
}
