/**
 * Every voice's parameters, laid out by the table (params.ts): the kernel's Param objects and the
 * span's values in flat arrays, `NP` per voice in table order, and per voice a mask of the
 * parameters moving in this span. Beside them the same for the send levels (`ctx.sends`: one
 * `send/<bus>` per declared send bus, `sendCount` per voice, in the order of `ctx.sends`) and per
 * voice whether any of them moves.
 *
 * Why flat, and read all at once: `read` loads a voice's Param objects in one short loop with nothing
 * else in it, and `VoiceSet.gather` calls it for every sounding voice at a span start. The loads of
 * 128 voices' Params are independent, so the CPU overlaps their cache misses instead of taking them
 * one at a time inside the per-voice logic (measured: most of the plugin's JS time was those misses).
 *
 * Thread: the constructor allocates (create); `read` is allocation-free.
 */
import type { Param, PluginContext } from 'plugin-sdk';
import { NP, PARAM_NAMES } from './params.ts';

/** Bits in a moving mask (Uint32Array). */
const MASK_BITS = 32;

export class VoiceParams {
  /** The kernel's parameter objects: voice v's parameter k at `v * NP + k`. */
  readonly params: Param[];
  /** The span's values, indexed like `params` (filled by `read`). */
  readonly val: Float64Array;
  /** Per voice: bit k set while parameter k moves in this span (`bit(name)`; filled by `read`). */
  readonly moving: Uint32Array;
  /** Send buses per voice (`ctx.sends.length`). */
  readonly sendCount: number;
  /** The send level parameters: voice v's level into send bus k at `v * sendCount + k`. */
  readonly sendParams: Param[];
  /** The span's send levels, indexed like `sendParams` (filled by `read`). */
  readonly sendVal: Float64Array;
  /** Per voice: 1 while one of its send levels moves in this span (filled by `read`). */
  readonly sendsMoving: Uint8Array;

  constructor(ctx: PluginContext, count: number) {
    if (NP > MASK_BITS) throw new Error(`VOICES_PARAMS_TOO_MANY: the voices table has ${NP} parameters, a moving mask holds ${MASK_BITS}; use a wider mask`);
    const params: Param[] = [];
    for (let v = 0; v < count; v++) for (const name of PARAM_NAMES) params.push(ctx.param(v, name));
    this.params = params;
    this.val = new Float64Array(count * NP);
    this.moving = new Uint32Array(count);
    const sends = ctx.sends;
    this.sendCount = sends.length;
    const sendParams: Param[] = [];
    for (let v = 0; v < count; v++) for (const send of sends) sendParams.push(send.level(v));
    this.sendParams = sendParams;
    this.sendVal = new Float64Array(count * sends.length);
    this.sendsMoving = new Uint8Array(count);
  }

  /** Voice v's parameter values into `val` and `sendVal`, and which of them move into `moving[v]` and `sendsMoving[v]`. */
  read(v: number): void {
    const params = this.params;
    const val = this.val;
    const i = v * NP;
    let moving = 0;
    for (let k = 0; k < NP; k++) {
      const p = params[i + k];
      val[i + k] = p.value;
      if (p.moving) moving |= 1 << k;
    }
    this.moving[v] = moving;
    const ns = this.sendCount;
    const sendParams = this.sendParams;
    const sendVal = this.sendVal;
    const j = v * ns;
    let sendsMoving = 0;
    for (let k = 0; k < ns; k++) {
      const p = sendParams[j + k];
      sendVal[j + k] = p.value;
      if (p.moving) sendsMoving = 1;
    }
    this.sendsMoving[v] = sendsMoving;
  }
}
