/**
 * chronus-ref (../shared/WORKLOAD.md) for SuperCollider's server in non-real-time mode, written here
 * without sclang: three SynthDefs in the binary SynthDef2 format ("SCgf" version 2) and an NRT score
 * (a file of length-prefixed OSC bundles), then `scsynth -N` renders it (Debian's
 * supercollider-server: `apt-get install -y supercollider-server`).
 *
 * The graph (node order: ctl, voice 1 … N, fx; scsynth's default 64-frame control block):
 * - `ctl`: SinOsc.kr(0.5) · 600 + 1200 → control bus 0 (every voice's cutoff: the workload's one LFO,
 *   at control rate); LFPulse.kr(4, 0, 0.4) → control bus 1 (the common gate: high for the first
 *   100 ms of every 250 ms, from t = 0). The gate is a control signal, so its edges fall on
 *   64-frame block starts (within 1.3 ms of the workload's times); Chronus gets N × 480 gate messages
 *   on their exact frames instead.
 * - `voice` (freq, amp): Saw.ar(freq) (SuperCollider's band-limited saw) → RLPF.ar(cutoff, rq 0.5 =
 *   Q 2; a 2-pole resonant lowpass) × EnvGen.kr(linear ADSR 5 ms / 100 ms / 0.6 / 150 ms on the gate)
 *   × amp (0.25/√N) → audio bus 4 (private; with -i 0 -o 2 the hardware buses are 0 and 1).
 * - `fx`: x = In.ar(4); d = 0.5·x + 0.5·tanh(2x); FreeVerb2.ar(d, d, mix 1, room 0.8, damp 0.5) (Jezar's
 *   Freeverb, 100 % wet); w = CombN.ar(d, 0.375, 0.375, decay) with decay = 0.375·ln 0.001 / ln 0.4,
 *   i.e. feedback 0.4: w[n] = d[n − 18000] + 0.4·w[n − 18000]; out L/R = 0.5·d + 0.15·rev + 0.125·w.
 *   This is the workload's bus exactly (Chronus deviates from it: bench/ref.ts).
 *
 * Thread: a benchmark's own process (files, child processes); nothing here runs in the engine.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

// ───────────────────────── SynthDef2 ─────────────────────────

const CONTROL = 1;
const AUDIO = 2;
/** BinaryOpUGen and UnaryOpUGen operator numbers (SuperCollider's special index). */
const OP_MUL = 2;
const OP_TANH = 36;

/** An input: a constant's value, or output `out` of UGen `ugen` (its index in the def). */
type Input = number | { ugen: number; out: number };

interface UGen {
  name: string;
  rate: number;
  inputs: Input[];
  outputs: number;
  special: number;
}

/** One SynthDef being built: UGens in order (inputs refer only to earlier ones), constants collected. */
class Def {
  readonly ugens: UGen[] = [];
  constructor(
    readonly name: string,
    readonly params: readonly [string, number][] = [],
  ) {
    if (params.length > 0) this.add('Control', CONTROL, [], params.length);
  }

  /** Adds a UGen; returns its outputs as inputs for later ones. */
  add(name: string, rate: number, inputs: Input[], outputs = 1, special = 0): Input[] {
    const ugen = this.ugens.length;
    this.ugens.push({ name, rate, inputs, outputs, special });
    return Array.from({ length: outputs }, (_, out) => ({ ugen, out }));
  }

  /** Control parameter `name` (the Control UGen's outputs, in `params` order). */
  param(name: string): Input {
    const i = this.params.findIndex(([n]) => n === name);
    if (i < 0) throw new Error(`${this.name}: no parameter ${name}`);
    return { ugen: 0, out: i };
  }

  /** `a · b` (or `a + b`) at `rate`. */
  op(special: number, rate: number, a: Input, b: Input): Input {
    return this.add('BinaryOpUGen', rate, [a, b], 1, special)[0];
  }

  /** `a · mul + add` at `rate`. */
  mulAdd(rate: number, a: Input, mul: Input, add: Input): Input {
    return this.add('MulAdd', rate, [a, mul, add])[0];
  }
}

/** Big-endian byte writer. */
class Bytes {
  private readonly parts: Buffer[] = [];
  i8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    return this.push(b);
  }
  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return this.push(b);
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this.push(b);
  }
  f32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatBE(v);
    return this.push(b);
  }
  /** A Pascal string: one length byte, then the bytes. */
  pstring(s: string): this {
    return this.i8(s.length).push(Buffer.from(s, 'latin1'));
  }
  push(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The SynthDef2 file of `defs`. */
export function synthDefFile(defs: readonly Def[]): Buffer {
  const w = new Bytes().push(Buffer.from('SCgf', 'latin1')).i32(2).i16(defs.length);
  for (const def of defs) {
    const constants: number[] = [];
    const constIndex = (v: number) => {
      let i = constants.indexOf(v);
      if (i < 0) i = constants.push(v) - 1;
      return i;
    };
    for (const u of def.ugens) for (const x of u.inputs) if (typeof x === 'number') constIndex(x);
    w.pstring(def.name).i32(constants.length);
    for (const c of constants) w.f32(c);
    w.i32(def.params.length);
    for (const [, v] of def.params) w.f32(v);
    w.i32(def.params.length);
    def.params.forEach(([n], i) => w.pstring(n).i32(i));
    w.i32(def.ugens.length);
    for (const u of def.ugens) {
      w.pstring(u.name).i8(u.rate).i32(u.inputs.length).i32(u.outputs).i16(u.special);
      for (const x of u.inputs) {
        if (typeof x === 'number') w.i32(-1).i32(constIndex(x));
        else w.i32(x.ugen).i32(x.out);
      }
      for (let o = 0; o < u.outputs; o++) w.i8(u.rate);
    }
    w.i16(0); // no variants
  }
  return w.done();
}

/** The private audio bus the voices sum into. */
const VOICE_BUS = 4;

/** ctl, voice and fx (header above). */
export function refSynthDefs(sampleRate: number): Def[] {
  const ctl = new Def('chronus_ref_ctl');
  const lfo = ctl.add('SinOsc', CONTROL, [0.5, 0])[0];
  const cutoff = ctl.mulAdd(CONTROL, lfo, 600, 1200);
  const gate = ctl.add('LFPulse', CONTROL, [4, 0, 0.4])[0];
  ctl.add('Out', CONTROL, [0, cutoff, gate], 0);

  const voice = new Def('chronus_ref_voice', [
    ['freq', 110],
    ['amp', 0.1],
  ]);
  const [cut, gateIn] = voice.add('In', CONTROL, [0], 2);
  const saw = voice.add('Saw', AUDIO, [voice.param('freq')])[0];
  const filtered = voice.add('RLPF', AUDIO, [saw, cut, 0.5])[0];
  // EnvGen: gate, levelScale, levelBias, timeScale, doneAction, then the envelope: initial level 0,
  // 3 segments, release node 2, no loop (-99); per segment target, time, shape 1 (linear), curve 0.
  const env = voice.add('EnvGen', CONTROL, [gateIn, 1, 0, 1, 0, 0, 3, 2, -99, 1, 0.005, 1, 0, 0.6, 0.1, 1, 0, 0, 0.15, 1, 0])[0];
  const gain = voice.op(OP_MUL, CONTROL, env, voice.param('amp'));
  voice.add('Out', AUDIO, [VOICE_BUS, voice.op(OP_MUL, AUDIO, filtered, gain)], 0);

  const fx = new Def('chronus_ref_fx');
  const x = fx.add('In', AUDIO, [VOICE_BUS])[0];
  const shaped = fx.add('UnaryOpUGen', AUDIO, [fx.op(OP_MUL, AUDIO, x, 2)], 1, OP_TANH)[0];
  const d = fx.mulAdd(AUDIO, x, 0.5, fx.op(OP_MUL, AUDIO, shaped, 0.5));
  const [revL, revR] = fx.add('FreeVerb2', AUDIO, [d, d, 1, 0.8, 0.5], 2);
  const delaySeconds = 18000 / sampleRate;
  const decay = (delaySeconds * Math.log(0.001)) / Math.log(0.4);
  const w = fx.add('CombN', AUDIO, [d, delaySeconds, delaySeconds, decay])[0];
  const dry = fx.mulAdd(AUDIO, w, 0.125, fx.op(OP_MUL, AUDIO, d, 0.5));
  const outL = fx.mulAdd(AUDIO, revL, 0.15, dry);
  const outR = fx.mulAdd(AUDIO, revR, 0.15, dry);
  fx.add('Out', AUDIO, [0, outL, outR], 0);
  return [ctl, voice, fx];
}

// ───────────────────────── OSC score ─────────────────────────

type OscArg = number | string | Buffer | { f: number };

/** An OSC string: the bytes, a NUL, padded to 4 bytes. */
function oscString(s: string): Buffer {
  const b = Buffer.from(`${s}\0`, 'latin1');
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

/** An OSC message: integers as `i`, `{ f }` as `f`, strings as `s`, buffers as blobs. */
function oscMessage(address: string, args: readonly OscArg[]): Buffer {
  let tags = ',';
  const data: Buffer[] = [];
  for (const a of args) {
    if (typeof a === 'string') {
      tags += 's';
      data.push(oscString(a));
    } else if (Buffer.isBuffer(a)) {
      tags += 'b';
      const size = Buffer.alloc(4);
      size.writeInt32BE(a.length);
      data.push(size, a, Buffer.alloc((4 - (a.length % 4)) % 4));
    } else {
      const b = Buffer.alloc(4);
      if (typeof a === 'number') {
        tags += 'i';
        b.writeInt32BE(a);
      } else {
        tags += 'f';
        b.writeFloatBE(a.f);
      }
      data.push(b);
    }
  }
  return Buffer.concat([oscString(address), oscString(tags), ...data]);
}

/** An NRT score entry: a bundle at `seconds` (OSC time tag, seconds from the render's start), size-prefixed. */
function scoreBundle(seconds: number, messages: readonly Buffer[]): Buffer {
  const tag = Buffer.alloc(8);
  tag.writeUInt32BE(Math.floor(seconds));
  tag.writeUInt32BE(Math.round((seconds % 1) * 2 ** 32), 4);
  const parts: Buffer[] = [oscString('#bundle'), tag];
  for (const m of messages) {
    const size = Buffer.alloc(4);
    size.writeInt32BE(m.length);
    parts.push(size, m);
  }
  const bundle = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32BE(bundle.length);
  return Buffer.concat([size, bundle]);
}

/** The whole NRT score for `n` voices over `seconds`. */
export function refScore(n: number, seconds: number, sampleRate: number): Buffer {
  const defs = synthDefFile(refSynthDefs(sampleRate));
  const TAIL = 1;
  const nodes: Buffer[] = [oscMessage('/s_new', ['chronus_ref_ctl', 1000, TAIL, 0])];
  const amp = 0.25 / Math.sqrt(n);
  for (let i = 0; i < n; i++) {
    nodes.push(oscMessage('/s_new', ['chronus_ref_voice', 1001 + i, TAIL, 0, 'freq', { f: 110 * 2 ** (i / 24.2) }, 'amp', { f: amp }]));
  }
  nodes.push(oscMessage('/s_new', ['chronus_ref_fx', 1001 + n, TAIL, 0]));
  return Buffer.concat([
    scoreBundle(0, [oscMessage('/d_recv', [defs])]),
    scoreBundle(0, nodes),
    // The render ends with the control block holding the last bundle: the one ending at `seconds`.
    scoreBundle(seconds - 1 / sampleRate, [oscMessage('/c_set', [0, 0])]),
  ]);
}

/** Whether `scsynth` runs here. */
export function scsynthInstalled(): boolean {
  return spawnSync('scsynth', ['-v'], { encoding: 'utf8' }).status === 0;
}

/** Writes the score for `n` voices into `dir`; returns the scsynth arguments that render it to `out` (24-bit WAV, 2 ch). */
export function scsynthArgs(dir: string, n: number, seconds: number, sampleRate: number, out: string): string[] {
  const score = path.join(dir, `scsynth-${n}.osc`);
  writeFileSync(score, refScore(n, seconds, sampleRate));
  // -D 0: no SynthDefs loaded from the user's folder (ours come in the score); -i 0 -o 2: no inputs, stereo out.
  return ['-N', score, '_', out, String(sampleRate), 'WAV', 'int24', '-i', '0', '-o', '2', '-D', '0'];
}
