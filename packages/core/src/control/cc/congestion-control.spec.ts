import { expect } from 'chai';
import fc from 'fast-check';
import {
  CC_NAMES,
  DEFAULT_CC_PARAMS,
  controlIntervalUs,
  createCcFlowState,
  createCongestionControl,
  gbps,
  mbps,
  resolveCcParams,
  type CcFlowState,
  type CcName,
  type CcParams,
} from './congestion-control.js';
import { MSS, apply, arbEvent, flow, sample } from './cc-spec-fixtures.js';

const RATE_BASED: readonly CcName[] = ['dctcp-rate', 'timely', 'const-rate'];
const WINDOW_BASED: readonly CcName[] = ['dctcp-window', 'newreno'];

describe('congestion control contract', () => {
  describe('createCongestionControl', () => {
    for (const name of CC_NAMES) {
      it(`creates ${name}`, () => {
        const cc = createCongestionControl(name);
        expect(cc.name).to.equal(name);
        expect(cc.params).to.deep.equal(DEFAULT_CC_PARAMS);
      });
    }

    it('rejects an unknown name and lists the valid choices', () => {
      expect(() => createCongestionControl('cubic')).to.throw(
        'unknown congestion control "cubic"; valid choices: dctcp-rate, dctcp-window, timely, const-rate, newreno',
      );
    });

    it('applies parameter overrides over the defaults', () => {
      const cc = createCongestionControl('timely', { timelyTlowUs: 50, timelyThighUs: 500 });
      expect(cc.params.timelyTlowUs).to.equal(50);
      expect(cc.params.timelyThighUs).to.equal(500);
      expect(cc.params.timelyBeta).to.equal(0.8);
    });

    it('rejects an unknown parameter', () => {
      expect(() => createCongestionControl('newreno', { bogus: 1 } as unknown as Partial<CcParams>)).to.throw(
        RangeError,
        'unknown parameter "bogus"',
      );
    });

    it('rejects bad parameters naming the field', () => {
      expect(() => resolveCcParams({ dctcpG: 0 })).to.throw(RangeError, 'dctcpG');
      expect(() => resolveCcParams({ minRateBps: 0 })).to.throw(RangeError, 'minRateBps');
      expect(() => resolveCcParams({ linkRateBps: Number.NaN })).to.throw(RangeError, 'linkRateBps');
      expect(() => resolveCcParams({ timelyTlowUs: 200 })).to.throw(RangeError, 'timelyTlowUs');
      expect(() => resolveCcParams({ minRateBps: gbps(100) })).to.throw(RangeError, 'minRateBps');
      expect(() => resolveCcParams({ initialWindowSegments: 2.5 })).to.throw(
        RangeError,
        'initialWindowSegments',
      );
      expect(() => resolveCcParams({ dctcpInitialAlpha: 1.5 })).to.throw(RangeError, 'dctcpInitialAlpha');
    });

    it('rejects a bad MSS at init', () => {
      const cc = createCongestionControl('newreno');
      const s = createCcFlowState();
      expect(() => cc.init(s, 0)).to.throw(RangeError, 'mss');
      expect(() => cc.init(s, 1448.5)).to.throw(RangeError, 'mss');
      expect(() => cc.init(s, 70000)).to.throw(RangeError, 'mss');
    });
  });

  describe('defaults (DESIGN.md 1, FlexTOE control loop figures)', () => {
    it('uses the FlexTOE figures', () => {
      expect(DEFAULT_CC_PARAMS.initialRttUs).to.equal(50);
      expect(DEFAULT_CC_PARAMS.controlIntervalRtts).to.equal(2);
      expect(DEFAULT_CC_PARAMS.minControlIntervalUs).to.equal(50);
      expect(DEFAULT_CC_PARAMS.dctcpG).to.equal(1 / 16);
      expect(DEFAULT_CC_PARAMS.dctcpInitRateBps).to.equal(mbps(10));
      expect(DEFAULT_CC_PARAMS.dctcpStepBps).to.equal(mbps(10));
      expect(DEFAULT_CC_PARAMS.timelyTlowUs).to.equal(30);
      expect(DEFAULT_CC_PARAMS.timelyThighUs).to.equal(150);
      expect(DEFAULT_CC_PARAMS.timelyBeta).to.equal(0.8);
      expect(DEFAULT_CC_PARAMS.initialWindowSegments).to.equal(10);
    });

    it('measures rates in bytes per second', () => {
      expect(mbps(10)).to.equal(1_250_000);
      expect(gbps(40)).to.equal(5_000_000_000);
    });
  });

  describe('controlIntervalUs', () => {
    it('is two RTTs, and at least 50 us', () => {
      const { s, cc } = flow('dctcp-rate');
      expect(controlIntervalUs(s, cc.params)).to.equal(100); // initial RTT 50 us
      cc.onInterval(s, sample({ rttUs: 10 }));
      expect(controlIntervalUs(s, cc.params)).to.equal(50);
      const { s: s2, cc: cc2 } = flow('dctcp-rate', { rttGain: 1 });
      cc2.onInterval(s2, sample({ rttUs: 400 }));
      expect(controlIntervalUs(s2, cc2.params)).to.equal(800);
    });

    it('takes the handshake RTT when given at init', () => {
      const cc = createCongestionControl('newreno');
      const s = createCcFlowState();
      cc.init(s, MSS, { rttUs: 120 });
      expect(s.rttUs).to.equal(120);
      expect(controlIntervalUs(s, cc.params)).to.equal(240);
    });
  });

  describe('RTT smoothing', () => {
    it('takes the first estimate, then an EWMA with gain 1/8, and tracks the minimum', () => {
      const { s, cc } = flow('const-rate');
      cc.onInterval(s, sample({ rttUs: 80 }));
      expect(s.rttUs).to.equal(80);
      cc.onInterval(s, sample({ rttUs: 160 }));
      expect(s.rttUs).to.equal(90);
      cc.onInterval(s, sample({ rttUs: 0 })); // no estimate: unchanged
      expect(s.rttUs).to.equal(90);
      expect(s.minRttUs).to.equal(80);
      expect(s.rttSamples).to.equal(2);
    });
  });

  describe('loss accounting', () => {
    it('reacts once to a retransmit announced by onRetransmit and then reported by the sample', () => {
      const { s, cc } = flow('dctcp-rate', { dctcpSlowStart: false });
      cc.onRetransmit(s, 'timeout');
      expect(s.rateBps).to.equal(mbps(5));
      cc.onInterval(s, sample({ retransmits: 1, timeouts: 1 }));
      expect(s.rateBps).to.equal(mbps(5));
    });

    it('reacts once per interval to retransmits only the sample reports', () => {
      const { s, cc } = flow('dctcp-rate', { dctcpSlowStart: false });
      cc.onInterval(s, sample({ retransmits: 3 }));
      expect(s.rateBps).to.equal(mbps(5));
    });

    it('reacts to the part of the sample that was not announced', () => {
      const { s, cc } = flow('newreno');
      s.lastInFlightBytes = 100 * MSS;
      s.cwndBytes = 100 * MSS;
      cc.onRetransmit(s, 'fast');
      expect(s.cwndBytes).to.equal(50 * MSS);
      cc.onInterval(s, sample({ retransmits: 2, timeouts: 1 })); // the timeout was never announced
      expect(s.cwndBytes).to.equal(MSS);
    });
  });

  describe('bounds hold for any sequence of samples and retransmits (property)', () => {
    const lowLink = { linkRateBps: mbps(100), minRateBps: mbps(2), maxCwndBytes: 256 * 1024 };
    for (const name of CC_NAMES) {
      for (const params of [{}, lowLink, { growOnlyWhenCcLimited: false, constRateBps: mbps(50) }]) {
        it(`${name} ${JSON.stringify(params)}`, () => {
          fc.assert(
            fc.property(fc.array(arbEvent, { maxLength: 200 }), (events) => {
              const { s, cc } = flow(name, params);
              checkBounds(name, s, cc.params);
              for (const e of events) {
                apply(cc, s, e);
                checkBounds(name, s, cc.params);
              }
            }),
            { numRuns: 200 },
          );
        });
      }
    }
  });
});

function checkBounds(name: CcName, s: CcFlowState, p: Readonly<CcParams>): void {
  for (const [k, v] of Object.entries(s)) {
    expect(Number.isFinite(v), `${k} = ${v}`).to.equal(true);
  }
  expect(s.alpha).to.be.within(0, 1);
  if (RATE_BASED.includes(name)) {
    expect(s.cwndBytes).to.equal(0);
    if (name === 'const-rate' && p.constRateBps === 0) expect(s.rateBps).to.equal(0);
    else expect(s.rateBps).to.be.within(p.minRateBps, p.linkRateBps);
  }
  if (WINDOW_BASED.includes(name)) {
    expect(s.rateBps).to.equal(0);
    expect(s.cwndBytes).to.be.within(s.mss, p.maxCwndBytes);
    expect(s.ssthreshBytes).to.be.at.least(2 * s.mss);
    expect(Number.isInteger(s.cwndBytes)).to.equal(true);
  }
}
