/** A score for offline rendering: timed OSC messages, validated with zod. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ChronusError, ErrorCode, formatZodIssues } from '../../kernel/base/errors.ts';

const oscValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.union([z.number(), z.string()]))]);

export const ScoreEventSchema = z.strictObject({
  /** Seconds from the start of the render. */
  time: z.number().min(0),
  address: z.string().startsWith('/'),
  args: z.array(oscValue).default([]),
});

export const ScoreSchema = z.strictObject({
  /** Length in seconds; default: last event + 2 s. */
  seconds: z.number().positive().max(24 * 3600).optional(),
  events: z.array(ScoreEventSchema),
});

export type Score = z.infer<typeof ScoreSchema>;
export type ScoreEvent = z.infer<typeof ScoreEventSchema>;

/** Parse a score: `{ seconds?, events: [...] }` or a bare array of events. */
export function parseScore(json: unknown, file: string): Score {
  const plain = plainScore(Array.isArray(json) ? { events: json } : json);
  if (plain !== null) {
    plain.events.sort((a, b) => a.time - b.time);
    return plain;
  }
  const parsed = ScoreSchema.safeParse(Array.isArray(json) ? { events: json } : json, { reportInput: true, jitless: true });
  if (!parsed.success) {
    throw new ChronusError(ErrorCode.CONFIG_INVALID, `${file} is not a valid score:`, {
      details: formatZodIssues(parsed.error, file, json),
      hint: 'A score is { "seconds": 4, "events": [{ "time": 0, "address": "/gate/voice1", "args": [1] }] }.',
    });
  }
  const score = parsed.data;
  score.events.sort((a, b) => a.time - b.time);
  return score;
}

const MAX_SECONDS = 24 * 3600;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** One OSC value as `oscValue` accepts it. */
function isOscValue(x: unknown): boolean {
  if (isNumber(x) || typeof x === 'string' || typeof x === 'boolean') return true;
  if (!Array.isArray(x)) return false;
  for (const y of x) if (!isNumber(y) && typeof y !== 'string') return false;
  return true;
}

/**
 * The score as ScoreSchema would parse it, checked by hand, or null when anything is off (then zod
 * parses it and words the errors). A long score is tens of thousands of events (the reference
 * workload at 128 voices: 61,000), which zod takes about 5 µs each to check; this takes a fraction.
 */
function plainScore(json: unknown): Score | null {
  if (!isPlainObject(json)) return null;
  for (const key in json) if (key !== 'seconds' && key !== 'events') return null;
  const { seconds, events } = json;
  if (seconds !== undefined && !(isNumber(seconds) && seconds > 0 && seconds <= MAX_SECONDS)) return null;
  if (!Array.isArray(events)) return null;
  const out: ScoreEvent[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e: unknown = events[i];
    if (!isPlainObject(e)) return null;
    for (const key in e) if (key !== 'time' && key !== 'address' && key !== 'args') return null;
    const { time, address, args } = e;
    if (!isNumber(time) || time < 0 || typeof address !== 'string' || !address.startsWith('/')) return null;
    if (args !== undefined && !(Array.isArray(args) && args.every(isOscValue))) return null;
    out[i] = { time, address, args: args === undefined ? [] : (args as ScoreEvent['args']) };
  }
  return seconds === undefined ? { events: out } : { seconds, events: out };
}

export async function readScore(file: string): Promise<Score> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ChronusError(ErrorCode.CONFIG_INVALID, `${file}: cannot read the score (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ChronusError(ErrorCode.CONFIG_INVALID, `${file}: not JSON (${(e as Error).message})`);
  }
  return parseScore(json, file);
}
