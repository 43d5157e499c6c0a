/**
 * Give the calling thread (the audio worker) the scheduling an audio thread needs, where the system
 * allows it: real-time round-robin (SCHED_RR, as JACK does) or else a raised nice value. On Linux
 * both act on the one thread: its task id comes from /proc/thread-self. Without the privilege
 * (not root, no CAP_SYS_NICE) the thread keeps normal scheduling. Never throws.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import os from 'node:os';

// Above every normal thread, below JACK's own real-time threads (when the device is JACK).
const RT_PRIORITY = '2';

export function raiseAudioThreadPriority(): 'realtime' | 'nice' | 'normal' {
  try {
    const tid = readlinkSync('/proc/thread-self').split('/').pop();
    if (tid && spawnSync('chrt', ['--rr', '-p', RT_PRIORITY, tid], { stdio: 'ignore' }).status === 0) return 'realtime';
  } catch {
    // No /proc/thread-self or no chrt: try nice below.
  }
  try {
    // A task id of 0 is the calling thread.
    os.setPriority(-11);
    return 'nice';
  } catch {
    return 'normal';
  }
}
