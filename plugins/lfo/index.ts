/**
 * The `lfo` plugin (modules `lfo1`, `lfo2`): low-frequency modulators of any parameter.
 *
 * Each LFO has a target — any parameter address of the schema — and modulates it through the
 * kernel's parameter system: once per block (control rate) it computes
 *
 *     offset = (wave · depth + offset) · range          (in the target parameter's units)
 *
 * and hands it to `ctx.events.modulate` at the block's first frame; the kernel adds it to the
 * target's base value, clamps to the target's range and smooths it with the target's own smoothing
 * (20 ms unless the target says otherwise), so steps between blocks and square/sample & hold edges
 * never click. `range` is a parameter (0–10000, target units): the deviation at depth 1.
 *
 * Defaults (OSC.md: "lfo1 0.25 Hz / 0.7 → voice2 filter ±800 Hz; lfo2 4 Hz / 0.3 → voice3 amp"):
 * - lfo1: rate 0.25 Hz, depth 0.7, range 8000/7 ≈ 1142.86 Hz → the defaults swing voice2's filter
 *   exactly ±800 Hz (depth 1 would give ±1142.86 Hz); target `/mod/voice2/filter/freq`.
 * - lfo2: rate 4 Hz, depth 0.3, range 1 → ±0.3 on voice3's amp; target `/mod/voice3/amp`.
 * lfo2's rate/depth/range differ from the table through `moduleDefaults` (a kernel feature: the
 * per-module default is the module's start value and what `/engine/schema` shows for it).
 *
 * Target: `/mod/lfo1/target <address>` (and `/mod/lfo2/target`). The address is a parameter address
 * as listed by `/engine/schema`, e.g. `/mod/voice2/filter/freq` (`voice2/filter/freq` is accepted
 * too); "" or "none" removes the target. A `*` in the address makes it a pattern that stands for
 * every index 1…128 (every `*` the same number): `/mod/voice*\/filter/freq` (without the backslash)
 * modulates the cutoff of every voice with the same offset — one LFO, many targets (at most 128 per
 * LFO); the reply then also carries `matches`, how many parameters it resolved to. An unknown address,
 * or a pattern that matches nothing, is refused with an `/error` reply
 * (LFO_UNKNOWN_TARGET) and the old target stays. Without an argument the route replies with the
 * current target. Every call that succeeds replies `/mod/lfoN/target {"module","target","resolved"}`.
 * Retargeting returns the old target to its base value (its modulation is set to 0) at the next
 * block. Two LFOs on one target add up (the kernel holds one modulation value per parameter).
 *
 * A target restored from state (hot reload, patterns) or a default target may name a plugin that is
 * not loaded yet: it is kept, and every target is re-resolved every ~0.1 s of audio (Map lookups of
 * strings expanded when the target was set: no allocation), so it starts as soon as its plugin loads
 * and stops if it unloads; a pattern picks up modules that appear later the same way.
 *
 * | hook        | thread / when                      | does                                                 |
 * | ----------- | ---------------------------------- | ---------------------------------------------------- |
 * | create      | audio thread, between blocks       | LfoCores (phase 0), default targets resolved if loaded|
 * | beginBlock  | audio thread, block start          | re-resolve (every ~0.1 s), send each target's offset,|
 * |             |                                    | zero targets no longer used, advance phases          |
 * | process     | inside a block                     | nothing (a modulator writes no audio)                |
 * | command     | between blocks (`/mod/lfoN/target`)| set or query the target; throws on unknown addresses |
 * | getState    | between blocks                     | `{ v: 1, modules: { lfo1: { target, phase, held, seed }, … } }` |
 * | stateSchema | control / audio, between blocks    | state.ts: bounded target, phase, held value, seed    |
 * | setState    | between blocks (after create)      | restores targets and phases; tolerates missing fields;|
 * |             |                                    | ignores a state that fails stateSchema               |
 * | dispose     | between blocks                     | returns every modulated target to its base value     |
 */
import { definePlugin, enumParam, z, type Param, type ParamTable, type PluginContext, type PluginRoute } from 'plugin-sdk';
import { LfoCore, modulationValue, SHAPE_NAMES, type LfoCoreState } from './dsp.ts';
import { LfoStateSchema } from './state.ts';

const params = {
  rate: { min: 0.01, max: 10, default: 0.25, unit: 'Hz', description: 'LFO frequency' },
  depth: { min: 0, max: 1, default: 0.7, description: 'Modulation amount: the wave is scaled by depth × range' },
  shape: enumParam(SHAPE_NAMES, 0, { description: 'Waveform: 0 sine, 1 triangle, 2 saw (rising), 3 square, 4 sample & hold' }),
  offset: { min: -1, max: 1, default: 0, description: 'Added to wave × depth before scaling by range (shifts the swing)' },
  range: {
    min: 0,
    max: 10000,
    default: 8000 / 7,
    description: "Deviation at depth 1, in the target parameter's units (lfo1: 8000/7 Hz so depth 0.7 gives ±800 Hz)",
  },
} satisfies ParamTable;

/** Per module: the default target address, and parameter defaults that differ from the table. */
const DEFAULT_TARGETS: Readonly<Record<string, string>> = { lfo1: '/mod/voice2/filter/freq', lfo2: '/mod/voice3/amp' };
const moduleDefaults = { lfo2: { rate: 4, depth: 0.3, range: 1 } };

/** How often (seconds of audio) every target address is resolved again. */
const RESOLVE_INTERVAL_S = 0.1;
/** A `*` in a target stands for each of 1…WILDCARD_MAX; also the most parameters one LFO modulates. */
const WILDCARD_MAX = 128;

const targetArgs = z.union([z.tuple([z.string({ error: 'expected a parameter address such as /mod/voice2/filter/freq' })]), z.tuple([])]);

function targetRoute(module: string): PluginRoute {
  return {
    address: `/mod/${module}/target`,
    description: `${module}'s target: any parameter address (e.g. /mod/voice2/filter/freq), "none" to stop; no argument replies the current target`,
    args: targetArgs,
    reply: `/mod/${module}/target`,
  };
}

/** Plain-JSON state of one module. */
interface ModuleState extends LfoCoreState {
  target: string;
}

interface PluginState {
  v: 1;
  modules: Record<string, ModuleState>;
}

/** An Error whose `code` the OSC router puts in the /error reply. */
function codedError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** "" / "none" → "", "voice2/filter/freq" → "/mod/voice2/filter/freq", otherwise as given (trimmed). */
function normalizeAddress(raw: string): string {
  const a = raw.trim();
  if (a === '' || a.toLowerCase() === 'none') return '';
  return a.startsWith('/') ? a : `/mod/${a}`;
}

/** The addresses a target stands for: none for "", itself, or one per index 1…WILDCARD_MAX for a `*` pattern. Allocates. */
function expandTarget(address: string): string[] {
  if (address === '') return [];
  if (!address.includes('*')) return [address];
  const out: string[] = [];
  for (let k = 1; k <= WILDCARD_MAX; k++) out.push(address.replaceAll('*', String(k)));
  return out;
}

export default definePlugin({
  params,
  moduleDefaults,
  routes: [targetRoute('lfo1'), targetRoute('lfo2')],
  stateSchema: LfoStateSchema,
  /** Music Chronus slot files: its old `lfo{n}` sections, field for field. */
  legacy: { modules: { pattern: 'lfo{n}', fields: { module_id: { label: 'text' }, rate: 'rate', depth: 'depth', shape: 'shape', offset: 'offset' } } },
  create(ctx: PluginContext) {
    const events = ctx.events;
    const n = ctx.modules.length;
    const rate: Param[] = [];
    const depth: Param[] = [];
    const shape: Param[] = [];
    const offset: Param[] = [];
    const range: Param[] = [];
    const cores: LfoCore[] = [];
    const routeAddresses: string[] = [];
    /** Target address per module ('' = none), and the addresses it stands for (expanded when set). */
    const targets: string[] = [];
    const candidates: string[][] = [];
    /**
     * Resolved parameter indices of module m: `index[m·WILDCARD_MAX …]`, `count[m]` of them, sorted
     * ascending without duplicates (so the modules' lists merge in one pass).
     */
    const index = new Int32Array(n * WILDCARD_MAX);
    const count = new Int32Array(n);
    /** Merge cursor per module (beginBlock). */
    const cursor = new Int32Array(n);
    /** This block's offset per module. */
    const value = new Float64Array(n);
    /** Room for one summed offset (modulateFrom takes its value from an array: allocation-free). */
    const sums = new Float64Array(1);
    /** Parameter indices this plugin modulated in the last block (sorted), and this block's. */
    let active = new Int32Array(n * WILDCARD_MAX);
    let nextActive = new Int32Array(n * WILDCARD_MAX);
    let activeCount = 0;
    const resolveInterval = Math.max(1, Math.round(RESOLVE_INTERVAL_S * ctx.sampleRate));
    let resolveIn = 0;
    for (let m = 0; m < n; m++) {
      const id = ctx.modules[m];
      rate.push(ctx.param(m, 'rate'));
      depth.push(ctx.param(m, 'depth'));
      shape.push(ctx.param(m, 'shape'));
      offset.push(ctx.param(m, 'offset'));
      range.push(ctx.param(m, 'range'));
      cores.push(new LfoCore(m + 1));
      routeAddresses.push(`/mod/${id}/target`);
      targets.push('');
      candidates.push([]);
    }
    for (let m = 0; m < n; m++) setTarget(m, DEFAULT_TARGETS[ctx.modules[m]] ?? '');

    /** Sets module m's target (it may resolve to nothing yet: not loaded). The old targets are released at the next block. Allocates. */
    function setTarget(m: number, address: string): void {
      targets[m] = address;
      candidates[m] = expandTarget(address);
      resolve(m);
    }

    /** Resolves module m's candidate addresses into its sorted, duplicate-free index list. Allocation-free. */
    function resolve(m: number): void {
      const list = candidates[m];
      const base = m * WILDCARD_MAX;
      let c = 0;
      for (let k = 0; k < list.length; k++) {
        const idx = events.paramIndex(list[k]);
        if (idx < 0) continue;
        // Insertion into the sorted list (the candidates usually resolve in ascending order already).
        let j = c;
        while (j > 0 && index[base + j - 1] > idx) j--;
        if (j > 0 && index[base + j - 1] === idx) continue;
        for (let t = c; t > j; t--) index[base + t] = index[base + t - 1];
        index[base + j] = idx;
        c++;
      }
      count[m] = c;
    }

    /** Resolve every target again (a plugin may have loaded or unloaded). Allocation-free. */
    function resolveAll(): void {
      for (let m = 0; m < n; m++) resolve(m);
    }

    function describe(m: number): { module: string; target: string; resolved: boolean; matches?: number } {
      const d = { module: ctx.modules[m], target: targets[m], resolved: count[m] > 0 };
      return targets[m].includes('*') ? { ...d, matches: count[m] } : d;
    }

    return {
      beginBlock(blockStart: number, frames: number): void {
        resolveIn -= frames;
        if (resolveIn <= 0) {
          resolveIn += resolveInterval;
          if (resolveIn <= 0) resolveIn = resolveInterval;
          resolveAll();
        }
        const seconds = frames / ctx.sampleRate;
        for (let m = 0; m < n; m++) {
          const core = cores[m];
          value[m] = modulationValue(core.wave(shape[m].value), depth[m].value, offset[m].value, range[m].value);
          core.advance(rate[m].value * seconds);
        }
        // Sent every block, changed or not: a replaced version of this plugin disposed later (after
        // a hot reload's watch period) zeroes its targets at a block start, and this block's value,
        // queued after it at the same frame, must win.
        let next = 0;
        let only = -1;
        let several = false;
        for (let m = 0; m < n; m++) {
          if (count[m] === 0) continue;
          if (only < 0) only = m;
          else several = true;
        }
        if (!several && only >= 0) {
          // One LFO with targets (the usual case): its list as it is.
          const base = only * WILDCARD_MAX;
          next = count[only];
          for (let k = 0; k < next; k++) {
            const idx = index[base + k];
            events.modulateFrom(blockStart, idx, value, only);
            nextActive[k] = idx;
          }
        }
        // Otherwise merge the modules' sorted index lists: each parameter once, with the sum of the
        // offsets of every module that targets it (two LFOs on one target add up).
        for (let m = 0; m < n; m++) cursor[m] = 0;
        while (several) {
          let idx = 0x7fffffff;
          for (let m = 0; m < n; m++) {
            if (cursor[m] < count[m]) {
              const i = index[m * WILDCARD_MAX + cursor[m]];
              if (i < idx) idx = i;
            }
          }
          if (idx === 0x7fffffff) break;
          let sum = 0;
          for (let m = 0; m < n; m++) {
            if (cursor[m] < count[m] && index[m * WILDCARD_MAX + cursor[m]] === idx) {
              sum += value[m];
              cursor[m]++;
            }
          }
          sums[0] = sum;
          events.modulateFrom(blockStart, idx, sums, 0);
          nextActive[next++] = idx;
        }
        // Targets modulated last block but not now go back to their base value (both lists sorted).
        let j = 0;
        for (let a = 0; a < activeCount; a++) {
          const old = active[a];
          while (j < next && nextActive[j] < old) j++;
          if (j >= next || nextActive[j] !== old) events.modulate(blockStart, old, 0);
        }
        const swap = active;
        active = nextActive;
        nextActive = swap;
        activeCount = next;
      },

      process(): void {
        // A modulator writes no audio.
      },

      command(name: string, args: unknown): unknown {
        const m = routeAddresses.indexOf(name);
        if (m < 0) return undefined; // engine-wide commands (/engine/stop …) mean nothing here
        const list = args as readonly unknown[];
        if (list.length === 0) return describe(m);
        const address = normalizeAddress(String(list[0]));
        if (address !== '' && !expandTarget(address).some((a) => events.paramIndex(a) >= 0)) {
          const what = address.includes('*') ? `no parameter matches ${address} (* = 1…${WILDCARD_MAX})` : `no parameter ${address}`;
          throw codedError(
            'LFO_UNKNOWN_TARGET',
            `${ctx.modules[m]}: ${what}; expected a parameter address listed by /engine/schema, e.g. /mod/voice2/filter/freq or /mod/voice*/filter/freq (target unchanged: ${targets[m] || 'none'})`,
          );
        }
        setTarget(m, address);
        return describe(m);
      },

      getState(): PluginState {
        const modules: Record<string, ModuleState> = {};
        for (let m = 0; m < n; m++) modules[ctx.modules[m]] = { target: targets[m], ...cores[m].getState() };
        return { v: 1, modules };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds changes nothing.
        const parsed = LfoStateSchema.safeParse(state);
        if (!parsed.success) return;
        const modules = parsed.data.modules;
        if (modules === undefined) return;
        for (let m = 0; m < n; m++) {
          const s = Object.hasOwn(modules, ctx.modules[m]) ? modules[ctx.modules[m]] : undefined;
          if (s === null || s === undefined) continue;
          cores[m].setState(s);
          if (typeof s.target === 'string') {
            setTarget(m, normalizeAddress(s.target));
          }
        }
      },

      dispose(): void {
        for (let a = 0; a < activeCount; a++) events.modulate(events.blockStart, active[a], 0);
      },
    };
  },
});
