/**
 * The Chronus plugin SDK: the only module a plugin may import (the plugin host enforces it).
 * It imports nothing from the kernel; the kernel implements these interfaces.
 */
import type { PluginDefinition, ParamSpec } from './types.ts';

export * from './types.ts';
export * from './control.ts';
export type { LegacyField, LegacyReader, LegacySlot } from './legacy.ts';
export * from './dsp/index.ts';
export * from './wav/index.ts';
export { z } from 'zod';
export { stateSample, stateSamples } from './state-schema.ts';
export { checkJson, JSON_LIMITS } from './state-json.ts';
export { MODULE_ID_RE, PLUGIN_ID_RE } from './ids.ts';
export { formatArgIssues, formatZodIssues, preview } from './zod-issues.ts';
/** Analysis for control halves (allocates: never on the audio thread). */
export { spectrum, bandLevels, legacyBandLevels, logBandEdges, FFT_SIZE as SPECTRUM_SIZE, type SpectrumForm } from './analysis/spectrum.ts';
// For control halves (they allocate): decode a WAV file, convert a signal's sample rate.
export { readWav, type WavData, type WavReadLimits } from './wav-read.ts';
export { resample } from './resample.ts';
// For control halves: data derived from files, kept on disk by the hash of what it is made from.
export { derivedKey, readDerived, writeDerived } from './derived-cache.ts';

/** Declare a plugin. Identity at run time; gives the definition its type. */
export function definePlugin<const D extends PluginDefinition>(definition: D): D {
  return definition;
}

/** A float parameter, for compact tables: `freq: param(20, 5000, 440, { unit: 'Hz' })`. */
export function param(min: number, max: number, defaultValue: number, extra: Omit<ParamSpec, 'min' | 'max' | 'default'> = {}): ParamSpec {
  return { min, max, default: defaultValue, ...extra };
}

/** An enum parameter: an integer index into `values`, never smoothed. */
export function enumParam(values: readonly string[], defaultIndex: number, extra: Omit<ParamSpec, 'min' | 'max' | 'default' | 'type' | 'values'> = {}): ParamSpec {
  return { type: 'enum', values, min: 0, max: values.length - 1, default: defaultIndex, smoothingMs: 0, ...extra };
}
