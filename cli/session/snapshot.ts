/**
 * Reading a journaled snapshot of the audio graph back (CLI, replay): the blob its `snap` line names
 * (checked against its hash, as every blob is) and its code, tails and samples from their own blobs,
 * checked with zod.
 */
import { z } from 'zod';
import { AUDIO_SNAPSHOT_VERSION, type AudioSnapshot } from '../../kernel/audio/audio-snapshot.ts';
import { decodeValue, type BlobSource } from './codec.ts';
import type { JournalSnapshot } from './read.ts';
import { SessionError } from './store.ts';

const frame = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const index = z.number().int().min(0).max(1 << 24);
const typed = <T>(type: new (...a: never[]) => T) => z.custom<T>((v) => v instanceof type, { error: `a ${type.name}` });

const SnapshotSchema = z.object({
  v: z.literal(AUDIO_SNAPSHOT_VERSION),
  frame,
  buses: z.array(z.string().max(200)).max(4096),
  slots: z.array(
    z.object({
      // The kernel's own SlotSpec, made by the live engine; checked here for the fields the restore reads first.
      spec: z.looseObject({ slotId: index, pluginId: z.string(), version: z.string(), role: z.string(), code: z.string(), filename: z.string(), modules: z.array(z.string()), params: z.array(z.unknown()), gates: z.array(z.unknown()) }),
      state: z.unknown().optional(),
      bypassed: z.boolean(),
      faults: z.number().int().min(0),
      lastError: z.string(),
    }),
  ),
  params: z.array(z.object({ index, spec: z.looseObject({ min: z.number(), max: z.number(), default: z.number() }), base: z.number(), mod: z.number(), value: z.number(), target: z.number(), moving: z.boolean() })),
  queue: z.object({ frames: typed(Float64Array), kinds: typed(Int32Array), targets: typed(Int32Array), values: typed(Float64Array) }),
  openGates: z.array(index),
  outputStopped: z.boolean(),
  outputGain: z.number().min(0).max(1),
});

export function readSnapshot(snap: JournalSnapshot, blobs: BlobSource): AudioSnapshot {
  let decoded: unknown;
  try {
    decoded = decodeValue(JSON.parse(blobs.get(snap.h).toString('utf8')), blobs);
  } catch (e) {
    throw new SessionError(`snapshot at frame ${snap.f}: ${e instanceof SessionError ? e.message : `blob ${snap.h} is not JSON`}`);
  }
  const parsed = SnapshotSchema.safeParse(decoded);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SessionError(`snapshot at frame ${snap.f}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  if (parsed.data.frame !== snap.f) throw new SessionError(`snapshot at frame ${snap.f}: its blob says frame ${parsed.data.frame}`);
  return parsed.data as unknown as AudioSnapshot;
}
