import { expect } from 'chai';
import fc from 'fast-check';
import { mbps } from './congestion-control.js';
import { MSS, apply, arbEvent, flow, sample } from './cc-spec-fixtures.js';

describe('const-rate', () => {
  it('is unlimited (0) by default, like TAS', () => {
    const { s, cc } = flow('const-rate');
    cc.onInterval(s, sample({ ackedBytes: MSS }));
    expect(s.rateBps).to.equal(0);
    expect(s.cwndBytes).to.equal(0);
  });

  it('sends at the configured rate, clamped to the link rate', () => {
    expect(flow('const-rate', { constRateBps: mbps(250) }).s.rateBps).to.equal(mbps(250));
    expect(flow('const-rate', { constRateBps: mbps(250), linkRateBps: mbps(100) }).s.rateBps).to.equal(
      mbps(100),
    );
  });

  it('ignores marks, delay and retransmits but still reports the interval', () => {
    const { s, cc } = flow('const-rate', { constRateBps: mbps(250) });
    cc.onInterval(
      s,
      sample({ ackedBytes: 5 * MSS, ecnBytes: 5 * MSS, rttUs: 900, retransmits: 2, timeouts: 1 }),
    );
    cc.onRetransmit(s, 'timeout');
    cc.onRetransmit(s, 'fast');
    expect(s.rateBps).to.equal(mbps(250));
    expect(s.rttUs).to.equal(900);
    expect(s.lastAckedBytes).to.equal(5 * MSS);
    expect(s.lastEcnBytes).to.equal(5 * MSS);
    expect(s.lastRetransmits).to.equal(2);
    expect(s.intervals).to.equal(1);
  });

  it('never changes the rate (property)', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 100 }), (events) => {
        const { s, cc } = flow('const-rate', { constRateBps: mbps(250) });
        for (const e of events) apply(cc, s, e);
        expect(s.rateBps).to.equal(mbps(250));
      }),
    );
  });
});
