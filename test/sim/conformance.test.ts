// The core conformance scenarios (handshake, refusal, half-close, abort, transfers under every
// fault profile, byte-exact) on both simulated NICs, in both time modes. 2 MiB each way per
// profile keeps the four runs within the test budget (FLEXTOE_CONFORMANCE_MIB overrides).
import { describeBackendConformance } from '../conformance/backend-conformance.js';

const mib = Number(process.env.FLEXTOE_CONFORMANCE_MIB ?? 2);

for (const backend of ['agilio-sim', 'bluefield-sim'] as const)
  for (const timeMode of ['virtual', 'paced'] as const)
    describe(`${backend} in ${timeMode} time`, () =>
      describeBackendConformance(backend, { config: { timeMode }, mib }));
