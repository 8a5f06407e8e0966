import { expect } from 'chai';
import { descriptor, probeX86Drivers, type HostProbe } from './descriptor.js';

/** A host with the given device nodes and pkg-config answers. */
function fakeHost(opts: { tun: boolean; pkgConfig: 'missing' | 'no-dpdk' | string }): HostProbe {
  return {
    exists: (path) => opts.tun && path === '/dev/net/tun',
    run(_command, args) {
      if (opts.pkgConfig === 'missing')
        return { status: null, stdout: '', error: new Error('spawn pkg-config ENOENT') };
      if (opts.pkgConfig === 'no-dpdk') return { status: 1, stdout: '' };
      return { status: 0, stdout: args.includes('--modversion') ? `${opts.pkgConfig}\n` : '' };
    },
  };
}
const driver = (drivers: ReturnType<typeof probeX86Drivers>, name: string) =>
  drivers.find((d) => d.name === name)!;

describe('x86 descriptor', () => {
  it('is honest: not implemented, wall-clock time, the missing capability named', () => {
    expect(descriptor.name).to.equal('x86');
    expect(descriptor.status).to.equal('not-implemented');
    expect(descriptor.timeBase).to.equal('wall');
    expect(descriptor.issue).to.match(/\(issue: .+\)$/);
    expect(Object.values(descriptor.features)).to.not.include('yes');
  });

  it('always offers the virtual driver', () => {
    expect(
      driver(probeX86Drivers(fakeHost({ tun: false, pkgConfig: 'missing' })), 'virtual').available,
    ).to.equal(true);
  });

  it('offers tap when /dev/net/tun exists', () => {
    expect(driver(probeX86Drivers(fakeHost({ tun: true, pkgConfig: 'missing' })), 'tap')).to.include({
      available: true,
    });
    const none = driver(probeX86Drivers(fakeHost({ tun: false, pkgConfig: 'missing' })), 'tap');
    expect(none).to.deep.equal({ name: 'tap', available: false, detail: '/dev/net/tun not found' });
  });

  it('reports dpdk unavailable until the addon is built, and says what pkg-config found', () => {
    const found = driver(probeX86Drivers(fakeHost({ tun: true, pkgConfig: '23.11.0' })), 'dpdk');
    expect(found).to.deep.equal({
      name: 'dpdk',
      available: false,
      detail: 'libdpdk 23.11.0 found by pkg-config; addon not built yet',
    });
    expect(driver(probeX86Drivers(fakeHost({ tun: true, pkgConfig: 'no-dpdk' })), 'dpdk').detail).to.equal(
      'libdpdk not found by pkg-config; addon not built yet',
    );
    expect(driver(probeX86Drivers(fakeHost({ tun: true, pkgConfig: 'missing' })), 'dpdk').detail).to.include(
      'pkg-config not available',
    );
  });

  it('probes this host once, on first read', () => {
    const first = descriptor.drivers;
    expect(first.map((d) => d.name)).to.deep.equal(['virtual', 'tap', 'dpdk']);
    expect(descriptor.drivers).to.equal(first);
  });
});
