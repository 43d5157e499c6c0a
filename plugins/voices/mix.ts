/**
 * Adding a mono voice signal into stereo buses (l = r). Every function ADDS into both channels of
 * frames [start, end). Allocation-free: safe in `process`.
 */
import type { Bus, Param, Send } from 'plugin-sdk';

/** Adds `src` into `bus`. */
export function addTo(bus: Bus, src: Float32Array, start: number, end: number): void {
  const l = bus.l;
  const r = bus.r;
  for (let i = start; i < end; i++) {
    l[i] += src[i];
    r[i] += src[i];
  }
}

/** Adds `level` × `src` into `bus`: per sample from the param while it moves, nothing at rest at level 0. */
export function addSend(bus: Bus, src: Float32Array, start: number, end: number, level: Param): void {
  const l = bus.l;
  const r = bus.r;
  if (level.moving) {
    for (let i = start; i < end; i++) {
      const x = src[i] * level.next();
      l[i] += x;
      r[i] += x;
    }
    return;
  }
  const g = level.value;
  if (g <= 0) return;
  for (let i = start; i < end; i++) {
    const x = src[i] * g;
    l[i] += x;
    r[i] += x;
  }
}

/**
 * `levels[at + k]` × `src` into send bus k's bus, for each of `sends` whose level is above 0. (The
 * levels come by index: a number passed to a call V8 did not inline is boxed.)
 */
export function addToSends(sends: readonly Send[], src: Float32Array, start: number, end: number, levels: Float64Array, at: number): void {
  for (let k = 0; k < sends.length; k++) addToSend(sends[k].bus, src, start, end, levels, at + k);
}

/** `levels[at]` × `src` into `bus`, if that level is above 0. */
export function addToSend(bus: Bus, src: Float32Array, start: number, end: number, levels: Float64Array, at: number): void {
  const g = levels[at];
  if (!(g > 0)) return;
  const l = bus.l;
  const r = bus.r;
  for (let i = start; i < end; i++) {
    const x = src[i] * g;
    l[i] += x;
    r[i] += x;
  }
}
