/**
 * Kernel-owned parameters (audio thread). Each one is a one-pole smoother towards `base + mod`,
 * clamped to the spec's range. A plugin that reads a parameter per sample calls `next()` (one
 * multiply-add); one that reads it per block uses `value`. Either way the bank lands every moving
 * parameter exactly on its curve at the end of each span, so a parameter nobody reads still arrives,
 * and parameters at rest cost nothing.
 */
import type { Param, ParamSpec } from '../../plugin-sdk/types.ts';
import { clamp } from '../../plugin-sdk/dsp/clamp.ts';
import type { SnapshotParam } from './audio-snapshot.ts';

/** Within this fraction of the range a moving value snaps to its target (avoids endless tails and denormals). */
const SNAP = 1e-6;

export class KernelParam implements Param {
  spec: ParamSpec;
  // Every number field holds NaN (a double) before its first value: a field that V8 first sees
  // holding a small integer changes the object's layout when it first holds a fraction (an LFO's
  // first offset), which throws away the optimised audio path seconds into a run.
  value = NaN;
  target = NaN;
  moving = false;
  base = NaN;
  mod = NaN;
  /** Per-sample decay of the distance to the target: distance *= retain. */
  retain = NaN;
  snapDistance = NaN;
  min = NaN;
  max = NaN;
  integer = false;
  inMovingList = false;
  spanEnd = NaN;

  constructor(spec: ParamSpec, sampleRate: number, defaultSmoothingMs: number) {
    this.spec = spec;
    this.base = spec.default;
    this.value = spec.default;
    this.target = spec.default;
    this.mod = 0;
    this.spanEnd = 0;
    this.respec(spec, sampleRate, defaultSmoothingMs);
  }

  /** A new spec (hot reload): keep the value, clamped to the new range. */
  respec(spec: ParamSpec, sampleRate: number, defaultSmoothingMs: number): void {
    this.spec = spec;
    this.min = spec.min;
    this.max = spec.max;
    this.integer = spec.type === 'int' || spec.type === 'enum';
    const ms = spec.smoothingMs ?? (this.integer ? 0 : defaultSmoothingMs);
    const samples = (ms / 1000) * sampleRate;
    this.retain = samples >= 1 ? Math.pow(0.01, 1 / samples) : 0;
    this.snapDistance = (spec.max - spec.min) * SNAP;
    this.base = this.clamp(this.base);
    this.value = this.clamp(this.value);
    this.target = this.clamp(this.base + this.mod);
  }

  clamp(v: number): number {
    const c = clamp(v, this.min, this.max); // NaN gives min
    return this.integer ? Math.round(c) : c;
  }

  next(): number {
    return (this.value = this.target + (this.value - this.target) * this.retain);
  }

  fill(out: Float32Array | Float64Array, start: number, end: number): void {
    const t = this.target;
    const k = this.retain;
    let v = this.value;
    for (let i = start; i < end; i++) {
      v = t + (v - t) * k;
      out[i] = v;
    }
    this.value = v;
  }

  advance(n: number): number {
    const t = this.target;
    const k = this.retain;
    let v = this.value;
    for (let i = 0; i < n; i++) v = t + (v - t) * k;
    return (this.value = v);
  }
}

/** All parameters of the engine, by global index (assigned by the control thread). */
export class ParamBank {
  readonly params: (KernelParam | undefined)[] = [];
  private moving = new Int32Array(256);
  private movingCount = 0;

  constructor(
    private readonly sampleRate: number,
    private readonly defaultSmoothingMs: number,
  ) {}

  /** Between blocks: create or re-spec the parameter at `index`. */
  define(index: number, spec: ParamSpec): KernelParam {
    let p = this.params[index];
    if (p) p.respec(spec, this.sampleRate, this.defaultSmoothingMs);
    else {
      p = new KernelParam(spec, this.sampleRate, this.defaultSmoothingMs);
      while (this.params.length < index) this.params.push(undefined);
      this.params[index] = p;
    }
    if (this.moving.length < this.params.length) {
      const grown = new Int32Array(this.params.length * 2);
      grown.set(this.moving);
      this.moving = grown;
    }
    return p;
  }

  get(index: number): KernelParam | undefined {
    return this.params[index];
  }

  setBase(index: number, value: number): void {
    const p = this.params[index];
    if (p === undefined) return;
    p.base = p.clamp(value);
    this.retarget(p, index);
  }

  setMod(index: number, offset: number): void {
    const p = this.params[index];
    if (p === undefined) return;
    p.mod = offset === offset ? offset : 0;
    this.retarget(p, index);
  }

  private retarget(p: KernelParam, index: number): void {
    p.target = p.clamp(p.base + p.mod);
    if (p.target === p.value) return;
    if (p.retain === 0) {
      p.value = p.target;
      return;
    }
    p.moving = true;
    if (!p.inMovingList) {
      p.inMovingList = true;
      this.moving[this.movingCount++] = index;
    }
  }

  /** Between blocks: every parameter as the smoother holds it (an exact snapshot). */
  capture(): SnapshotParam[] {
    const out: SnapshotParam[] = [];
    this.params.forEach((p, index) => {
      if (p) out.push({ index, spec: p.spec, base: p.base, mod: p.mod, value: p.value, target: p.target, moving: p.inMovingList });
    });
    return out;
  }

  /** Between blocks: put `capture()`'s parameters back, each exactly where it was (defined first if new). */
  restore(params: readonly SnapshotParam[]): void {
    for (const s of params) {
      const p = this.define(s.index, s.spec);
      p.base = s.base;
      p.mod = s.mod;
      p.value = s.value;
      p.target = s.target;
      p.moving = s.moving;
      if (s.moving && !p.inMovingList) this.moving[this.movingCount++] = s.index;
      else if (!s.moving && p.inMovingList) this.unlist(s.index);
      p.inMovingList = s.moving;
    }
  }

  private unlist(index: number): void {
    for (let i = 0; i < this.movingCount; i++) if (this.moving[i] === index) this.moving[i] = this.moving[--this.movingCount];
  }

  /** Before rendering `frames` samples: note where every moving parameter will be at the span's end. */
  beginSpan(frames: number): void {
    const list = this.moving;
    const params = this.params;
    for (let i = 0; i < this.movingCount; i++) {
      const p = params[list[i]] as KernelParam;
      p.spanEnd = p.target + (p.value - p.target) * Math.pow(p.retain, frames);
    }
  }

  /** After rendering the span: land every moving parameter exactly on its curve; retire the arrived. */
  endSpan(): void {
    const list = this.moving;
    const params = this.params;
    let i = 0;
    while (i < this.movingCount) {
      const p = params[list[i]] as KernelParam;
      p.value = p.spanEnd;
      const distance = p.target - p.value;
      if (distance <= p.snapDistance && distance >= -p.snapDistance) {
        p.value = p.target;
        p.moving = false;
        p.inMovingList = false;
        list[i] = list[--this.movingCount];
      } else {
        i++;
      }
    }
  }
}
