/**
 * The voice bank's wasm memory: where the constants, the BLEP tables, the group records, the
 * look-ahead rows, the shared pending-output rows (W), the accumulators and the mono outputs lie,
 * and the fields of a group record. Shared by the kernel's code (bank-kernel.ts) and the JS side
 * that reads and writes lanes (bank.ts).
 */
import { BLEP_PHASES, BLEP_TAPS } from 'plugin-sdk';

const TAPS = BLEP_TAPS;
const PHASES = BLEP_PHASES;

/**
 * A group record (4 lanes): the fields below, each 16 bytes (one f32x4, or two f64x2 for P01/P23,
 * INC01/INC23), then per send bus two fields: its level and its change per frame
 * (`sendLevel(k)`, `sendStep(k)`). Bytes per record: `Layout.gs` (224 + 32 per send).
 */
// Group record offsets (bytes).
export const P01 = 0;
export const P23 = 16;
export const INC01 = 32;
export const INC23 = 48;
export const IC1 = 64;
export const IC2 = 80;
// The filter's state-space coefficients (as Svf's): m11 = 2a1 − 1, m22 = 1 − 2a3, c1 = a2,
// c2 = 1 − a3, d = a3; the kernel derives b1 = 2a2 = c1 + c1, m12 = −b1, b2 = 2a3 = d + d (exact in
// float32: doubling commutes with rounding), so a lane's filter is 5 stores, not 8.
export const M11 = 96;
export const M22 = 112;
export const C1 = 128;
export const C2 = 144;
export const D = 160;
export const GAIN = 176;
export const GINC = 192;
export const PEAK = 208;
/** Where the send fields start: send k's level at SENDS + 32k, its step 16 bytes after. */
const SENDS = 224;

/** Offset of send `k`'s level field in a group record. */
export function sendLevel(k: number): number {
  return SENDS + 32 * k;
}

/** Offset of send `k`'s change-per-frame field in a group record. */
export function sendStep(k: number): number {
  return SENDS + 32 * k + 16;
}

/** Constant slots (16 bytes each) at `consts`: f32x4 1, f64x2 1, then four lane masks (all ones in lane i). */
export const K_ONE = 0;
export const K_ONE64 = 16;
export const K_LANE = 32;

/** Byte offsets of the regions in the bank's memory. */
export interface Layout {
  /** Send buses the bank renders per-lane sends for. */
  sends: number;
  /** Bytes per group record. */
  gs: number;
  /** Constants the kernel loads into locals (a v128.const would be rebuilt at every use). */
  consts: number;
  res: number;
  slo: number;
  groups: number;
  /** Each group's look-ahead: TAPS rows of 4 lanes, relative to the end of its last `render`. */
  la: number;
  w: number;
  /** Accumulator rows (4 lanes per frame): the voices, then one per send bus. */
  accM: number;
  accS: number[];
  /** Mono outputs of `mix`: the voices, then one per send bus. */
  outM: number;
  outS: number[];
  /** A stereo bus copied in for `addInto` (left, then right, `maxBlock` floats each) and its level (f64). */
  into: number;
  intoLevel: number;
  pages: number;
}

/** The memory of a bank of `groups` groups, `maxBlock` frames and `sends` send buses. */
export function layout(groups: number, maxBlock: number, sends: number): Layout {
  const table = PHASES * TAPS * 4;
  const consts = 0;
  const res = 96;
  const slo = res + table;
  const g = slo + table;
  const gs = SENDS + 32 * sends;
  const la = g + groups * gs;
  const w = la + groups * TAPS * 16;
  const accM = w + (maxBlock + TAPS) * 16;
  const accS = Array.from({ length: sends }, (_, k) => accM + (k + 1) * maxBlock * 16);
  const outM = accM + (sends + 1) * maxBlock * 16;
  const outS = Array.from({ length: sends }, (_, k) => outM + (k + 1) * maxBlock * 4);
  const into = Math.ceil((outM + (sends + 1) * maxBlock * 4) / 16) * 16;
  const intoLevel = into + 2 * Math.ceil(maxBlock / 4) * 16;
  const bytes = intoLevel + 16;
  return { sends, gs, consts, res, slo, groups: g, la, w, accM, accS, outM, outS, into, intoLevel, pages: Math.ceil(bytes / 65536) };
}
