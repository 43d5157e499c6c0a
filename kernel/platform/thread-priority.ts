/**
 * Give the calling thread (the audio worker) the scheduling an audio thread needs, where the system
 * allows it: real-time round-robin (SCHED_RR, as JACK does) or else a raised nice value. On Linux
 * both act on the one thread: its task id comes from /proc/thread-self. Without the privilege
 * (not root, no CAP_SYS_NICE) the thread keeps normal scheduling. Never rejects.
 */
import os from 'node:os';
import { succeeds, thisTaskId } from './thread-tools.ts';

// Above every normal thread, below JACK's own real-time threads (when the device is JACK).
const RT_PRIORITY = '2';

/** Runs `chrt` as a child process (≈ 10–40 ms): the thread goes on with its work meanwhile. */
export async function raiseAudioThreadPriority(): Promise<'realtime' | 'nice' | 'normal'> {
  const tid = thisTaskId();
  if (tid !== 0 && (await succeeds('chrt', ['--rr', '-p', RT_PRIORITY, String(tid)]))) return 'realtime';
  try {
    // A task id of 0 is the calling thread.
    os.setPriority(-11);
    return 'nice';
  } catch {
    return 'normal';
  }
}
