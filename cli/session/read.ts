/**
 * Reading a journal back (control thread, CLI): gzip or plain, every line checked with zod. A line
 * that does not parse ends the journal there — the torn last line of a killed engine — and is said
 * in `torn`; a valid line of the wrong shape is an error naming the line.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { JOURNAL, JOURNAL_GZ, SessionError } from './store.ts';
import { JOURNAL_VERSION } from './journal.ts';

const frame = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Head = z.looseObject({
  t: z.literal('head'),
  v: z.literal(JOURNAL_VERSION),
  id: z.string(),
  started: z.string(),
  sampleRate: z.number().int().min(8000).max(192000),
  blockSize: z.number().int().min(16).max(4096),
  smoothingMs: z.number().min(0).max(10000),
  equalPowerFades: z.boolean(),
});
const Call = z.object({ t: z.literal('call'), f: frame, m: z.enum(['load', 'unload', 'command', 'share', 'setState', 'resetPlugin', 'broadcast']), a: z.array(z.unknown()), x: z.literal(1).optional() });
const Ev = z.object({ t: z.literal('ev'), b: frame, r: z.array(z.number()).refine((r) => r.length % 4 === 0, { error: 'records come in fours' }) });
const Mark = z.object({ t: z.literal('mark'), f: frame, label: z.string() });
const At = z.object({ t: z.enum(['at', 'end']), f: frame });
const Log = z.object({ t: z.literal('log'), f: frame, level: z.string(), text: z.string() });
const Line = z.discriminatedUnion('t', [Head, Call, Ev, Mark, At, Log]);

export type JournalHead = z.infer<typeof Head>;
export type JournalCall = z.infer<typeof Call>;
export type JournalEvents = z.infer<typeof Ev>;

export interface Journal {
  dir: string;
  head: JournalHead;
  calls: JournalCall[];
  events: JournalEvents[];
  marks: { f: number; label: string }[];
  logs: { f: number; level: string; text: string }[];
  /** Every frame before this one is journaled. */
  endFrame: number;
  /** Closed cleanly (an `end` line). */
  ended: boolean;
  /** Line number of a torn last line (a killed engine), else 0. */
  torn: number;
}

export function readJournal(dir: string): Journal {
  const gz = path.join(dir, JOURNAL_GZ);
  const plain = path.join(dir, JOURNAL);
  let text: string;
  if (existsSync(gz)) text = gunzipSync(readFileSync(gz)).toString('utf8');
  else if (existsSync(plain)) text = readFileSync(plain, 'utf8');
  else throw new SessionError(`${dir}: no ${JOURNAL_GZ} or ${JOURNAL}`);
  const lines = text.split('\n');
  const journal: Omit<Journal, 'head'> & { head: JournalHead | null } = { dir, head: null, calls: [], events: [], marks: [], logs: [], endFrame: 0, ended: false, torn: 0 };
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(lines[i]);
    } catch {
      journal.torn = i + 1;
      break;
    }
    const parsed = Line.safeParse(json);
    if (!parsed.success) throw new SessionError(`${dir}: journal line ${i + 1}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    const line = parsed.data;
    if (line.t === 'head') journal.head = line;
    else if (journal.head === null) throw new SessionError(`${dir}: journal line ${i + 1}: the first line must be the head`);
    else if (line.t === 'call') journal.calls.push(line);
    else if (line.t === 'ev') journal.events.push(line);
    else if (line.t === 'mark') journal.marks.push({ f: line.f, label: line.label });
    else if (line.t === 'log') journal.logs.push(line);
    else {
      journal.endFrame = Math.max(journal.endFrame, line.f);
      if (line.t === 'end') journal.ended = true;
    }
  }
  if (journal.head === null) throw new SessionError(`${dir}: the journal is empty`);
  return journal as Journal;
}
