// The core's own protocol suites, unchanged, on the x86 backend's threaded stack: the RFC 9293
// state-by-state segment specs and the transfer profiles, with the data path on a NIC core worker
// thread and the control plane on this one, driven in lockstep on the suites' ManualClock (each
// poll lets the NIC core finish what it was given, so the suites' synchronous steps hold).
//
// The suite files are imported a second time under another URL and their top-level describes
// are registered inside this one, where a hook installs the threaded stack as the stack under
// test. Transfer size: FLEXTOE_X86_LOCKSTEP_MIB (default 4 MiB each way per profile: lockstep
// pays a thread hand-off per poll; 64 MiB runs in minutes, see the x86 README).
import { expect } from 'chai';
import { setStackUnderTest, type StackHardware, type TcpStackOptions } from '@flextoe/core';
import { liveNicWorkers, ThreadedStack } from '@flextoe/backend-x86';
import { captureSuites } from './capture-suites.js';

const MIB = process.env.FLEXTOE_X86_LOCKSTEP_MIB ?? '4';

const core = new URL('../../packages/core/src/', import.meta.url);
const suites = [
  ...(await captureSuites(new URL('control/rfc9293-states.spec.ts', core), {}, 'x86-threads')),
  ...(await captureSuites(
    new URL('runtime/transfer-profiles.spec.ts', core),
    { FLEXTOE_TRANSFER_MIB: MIB },
    'x86-threads',
  )),
];

describe('core protocol suites on x86 NIC core threads (lockstep)', function () {
  this.timeout(600_000);
  const stacks: ThreadedStack[] = [];

  before(() =>
    setStackUnderTest((hw: StackHardware, options: TcpStackOptions) => {
      const s = ThreadedStack.createSync({
        options,
        port: hw.port,
        units: 1,
        time: { clock: hw.clock, timers: hw.timers },
        // Lockstep: the host waits for the core anyway, so the core sleeps at once when idle.
        spinRounds: 0,
      });
      stacks.push(s);
      return s;
    }),
  );

  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((s) => s.close()));
    expect(liveNicWorkers(), 'NIC core threads still running').to.equal(0);
  });

  after(() => setStackUnderTest(null));

  for (const [name, fn] of suites) describe(name, fn);
});
