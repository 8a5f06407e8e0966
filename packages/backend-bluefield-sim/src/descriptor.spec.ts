import { expect } from 'chai';
import { descriptor } from './descriptor.js';

describe('bluefield-sim descriptor', () => {
  it('is implemented, on modelled time, with no missing capability', () => {
    expect(descriptor.name).to.equal('bluefield-sim');
    expect(descriptor.status).to.equal('implemented');
    expect(descriptor.issue).to.equal('');
    expect(descriptor.timeBase).to.equal('modelled');
  });

  it('names what it models and what it does not do yet', () => {
    expect(descriptor.features['cycle model']).to.match(/^yes/);
    expect(descriptor.features['time modes']).to.equal('virtual, paced');
    expect(descriptor.features['pcap capture']).to.equal('planned');
  });

  it('offers the in-process wire always, TAP and DPDK in paced mode only', () => {
    const drivers = descriptor.drivers;
    expect(drivers.map((d) => d.name)).to.deep.equal(['virtual', 'tap', 'dpdk']);
    expect(drivers[0]!.available).to.equal(true);
    expect(drivers[0]!.detail).to.include('25 Gbit/s');
    for (const d of drivers.slice(1)) expect(d.detail).to.include("timeMode 'paced' only");
  });
});
