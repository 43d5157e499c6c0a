// Device thread bootstrap: a `.ts` worker entry cannot be loaded directly, so register tsx first (DESIGN.md).
import { register } from 'tsx/esm/api';

register();
await import('../audio/backends/device-output-main.ts');
