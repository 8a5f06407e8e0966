import { expect } from 'chai';
import { NullPort } from './null-port.js';
import { buffers, flushMicrotasks, testFrame } from './spec-support.js';

describe('NullPort', () => {
  it('accepts and discards every transmitted frame, counting it', () => {
    const p = new NullPort();
    expect(p.txBurst([testFrame(1, 2, 1, 100), testFrame(1, 2, 2, 60)], 2)).to.equal(2);
    expect(p.stats()).to.deep.equal({
      rxPackets: 0,
      rxBytes: 0,
      txPackets: 2,
      txBytes: 160,
      drops: { 'null-discard': 2 },
    });
  });

  it('receives nothing and never wakes', async () => {
    const p = new NullPort();
    let wakes = 0;
    p.setRxWakeup(() => wakes++);
    p.txBurst([testFrame(p.mac, p.mac, 1)], 1);
    expect(p.rxBurst(buffers(4), 4)).to.equal(0);
    await flushMicrotasks();
    expect(wakes).to.equal(0);
  });

  it('takes a MAC from options or configure, and has a null driver', async () => {
    const p = new NullPort({ mac: 0x020000000007 });
    expect(p.mac).to.equal(0x020000000007);
    p.configure({ mac: 0x020000000008, mtu: 1500 });
    expect(p.mac).to.equal(0x020000000008);
    expect(p.capabilities.driver).to.equal('null');
    await p.start();
    await p.stop();
  });
});
