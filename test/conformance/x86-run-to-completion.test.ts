// The conformance scenarios on the x86 backend's run-to-completion placement, virtual wire.
import { describeBackendConformance } from './backend-conformance.js';

describeBackendConformance('x86', { config: { x86: { placement: 'run-to-completion' } } });
