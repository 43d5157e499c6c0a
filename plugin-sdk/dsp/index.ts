/**
 * Chronus DSP building blocks (re-exported by `plugin-sdk`). Each file does one job; every
 * per-sample/per-block method is allocation-free and safe on the audio thread.
 *
 * | file          | provides                                                                 |
 * | ------------- | ------------------------------------------------------------------------ |
 * | oscillator.ts | `Oscillator` (sine, BLEP saw/square, white/pink/brown noise), WAVE_*      |
 * | blep.ts       | the windowed-sinc BLEP table behind saw/square (`addBlep`, BLEP_LATENCY) |
 * | svf.ts        | `Svf` TPT state-variable filter (LP/BP/HP, per-sample cutoff), `svfGains`, `tanPade` |
 * | biquad.ts     | `Biquad` RBJ-cookbook lowpass/highpass                                    |
 * | adsr.ts       | `Adsr` linear envelope, sample-exact stage times, ADSR_*                  |
 * | one-pole.ts   | `OnePole` smoother / 6 dB/oct filter                                      |
 * | dc-blocker.ts | `DcBlocker`                                                               |
 * | denormal.ts   | `flushDenormal`                                                           |
 * | gain.ts       | `dbToGain`, `gainToDb`                                                    |
 * | clamp.ts      | `clamp` (NaN gives the lower bound), the one the kernel uses too          |
 * | prng.ts       | `Xorshift32`, `xorshift32`, `seedFrom`                                    |
 */
export * from './denormal.ts';
export * from './gain.ts';
export * from './clamp.ts';
export * from './prng.ts';
export * from './blep.ts';
export * from './oscillator.ts';
export * from './svf.ts';
export * from './biquad.ts';
export * from './adsr.ts';
export * from './one-pole.ts';
export * from './dc-blocker.ts';
// Effects building blocks: `DelayLine` (power-of-two ring, Hermite read), `Freeverb` (Jezar's stereo
// reverb), `Upsampler2x`/`Downsampler2x` (polyphase IIR half-band), `advanceParam`/`RAMP_CHUNK`.
export * from './delay-line.ts';
export * from './freeverb.ts';
export * from './oversampler.ts';
export * from './param-ramp.ts';
export * from './ladder.ts';
export * from './kernel-io.ts';
export * from './wasm.ts';
