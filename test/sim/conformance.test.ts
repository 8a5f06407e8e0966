// The core conformance scenarios (handshake, refusal, half-close, abort, transfers under every
// fault profile, byte-exact) on both simulated NICs, in both time modes.
import { describeBackendConformance } from '../conformance/backend-conformance.js';

describeBackendConformance('agilio-sim', { config: { timeMode: 'virtual' } });
