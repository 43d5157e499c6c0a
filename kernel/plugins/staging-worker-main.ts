/**
 * A staging worker of its own, for an engine with no standby audio thread to try versions in (an
 * offline render): every new plugin version is evaluated and tried here before it goes live
 * (kernel/plugins/plugin-staging.ts starts it, sets its time limit and reads the answers). An endless
 * loop here costs a terminated worker, not the engine.
 */
import { parentPort } from 'node:worker_threads';
import { answerStaging, type StagingRequest } from './staging-requests.ts';

const port = parentPort!;
port.on('message', (m: { staging: StagingRequest }) => port.postMessage({ staged: answerStaging(m.staging) }));
// Loading this thread's code is not part of any version's time limit: say when it is ready.
port.postMessage({ loaded: true });
