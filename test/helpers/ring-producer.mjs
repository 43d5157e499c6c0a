// Producer thread for the ring test: pushes `total` records through the real ControlRing class.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
const { ControlRing } = await import('../../kernel/audio/control-ring.ts');
const ring = new ControlRing(workerData.buffer);
for (let i = 0; i < workerData.total; ) {
  if (ring.push(1, i, i % 97, i * 0.5)) i++;
}
