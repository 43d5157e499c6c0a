/** A score for offline rendering: timed OSC messages, validated with zod. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ChronusError, ErrorCode, formatZodIssues } from '../base/errors.ts';

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
  const parsed = ScoreSchema.safeParse(Array.isArray(json) ? { events: json } : json, { reportInput: true });
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
