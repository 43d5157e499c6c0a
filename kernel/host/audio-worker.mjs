// Worker bootstrap: a `.ts` worker entry cannot be loaded directly, so register tsx first (DESIGN.md).
import { register } from 'tsx/esm/api';

register();
await import('../audio/audio-worker-main.ts');
