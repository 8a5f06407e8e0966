import { expect } from 'chai';
import { descriptor, probeX86Drivers, type HostProbe } from './descriptor.js';
import { x86Options } from './threads/placement.js';

/** A host with the given device nodes, pkg-config answers and DPDK addon. */
function fakeHost(opts: {
  tun: boolean;
  pkgConfig: 'missing' | 'no-dpdk' | string;
  addon?: 'loads' | 'missing' | 'broken';
}): HostProbe {
  return {
    exists: (path) => opts.tun && path === '/dev/net/tun',
    loadDpdkAddon() {
      if (opts.addon === 'loads') return { loaded: true, version: 'DPDK 22.11.11' };
      if (opts.addon === 'broken') return { loaded: false, why: 'addon does not load: undefined symbol' };
      return { loaded: false, why: 'addon not built' };
    },
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
  it('is implemented, in wall-clock time, and names what it lacks', () => {
    expect(descriptor.name).to.equal('x86');
    expect(descriptor.status).to.equal('implemented');
    expect(descriptor.issue).to.equal('');
    expect(descriptor.timeBase).to.equal('wall');
    const f = descriptor.features;
    // Claims the code backs: the options exist and validate.
    expect(f.pinning).to.match(/^yes/);
    expect(x86Options({ pin: true }, 4).pin).to.deep.equal([1]);
    expect(f['DPDK lcores']).to.match(/^yes .*portThread nic-core/);
    expect(x86Options({ portThread: 'nic-core' }, 4).portThread).to.equal('nic-core');
    expect(f['parallel stages']).to.match(
      /^partial .*pre, post and DMA replicas; post replicas fill checksums only/,
    );
    expect(x86Options({ placement: 'parallel', graph: { pre: 1 } }, 4).preReplicas).to.equal(1);
    expect(x86Options({ graph: { post: 2 } }, 4).postReplicas).to.equal(2);
    expect(f['DMA model']).to.match(/DMA replica threads .*x86\.graph\.dma/);
    expect(x86Options({ graph: { dma: 1 } }, 4).dmaReplicas).to.equal(1);
    expect(() => x86Options({ graph: { ctxq: 1 } }, 4)).to.throw(/graph\/ctxq is not placeable/);
    // What is missing is not called done.
    expect(f['RX interrupts']).to.match(/^not implemented/);
    expect(f['extension hooks']).to.equal('planned');
    expect(f['cycle model']).to.match(/^n\/a/);
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

  it('offers dpdk only when the addon is built and loads, and says how to get it otherwise', () => {
    const ok = driver(
      probeX86Drivers(fakeHost({ tun: true, pkgConfig: '22.11.11', addon: 'loads' })),
      'dpdk',
    );
    expect(ok.available).to.equal(true);
    expect(ok.detail)
      .to.include('addon loaded (DPDK 22.11.11)')
      .and.include('libdpdk 22.11.11 found by pkg-config');

    const unbuilt = driver(probeX86Drivers(fakeHost({ tun: true, pkgConfig: '22.11.11' })), 'dpdk');
    expect(unbuilt).to.deep.equal({
      name: 'dpdk',
      available: false,
      detail:
        'libdpdk 22.11.11 found by pkg-config; addon not built (run `npm rebuild @flextoe/backend-x86` to build it)',
    });

    const noLib = driver(probeX86Drivers(fakeHost({ tun: true, pkgConfig: 'no-dpdk' })), 'dpdk');
    expect(noLib.available).to.equal(false);
    expect(noLib.detail).to.equal(
      'libdpdk not found by pkg-config; addon not built (apt-get install libdpdk-dev pkg-config, then npm rebuild @flextoe/backend-x86)',
    );

    const broken = driver(
      probeX86Drivers(fakeHost({ tun: true, pkgConfig: 'no-dpdk', addon: 'broken' })),
      'dpdk',
    );
    expect(broken.available).to.equal(false);
    expect(broken.detail).to.include('addon does not load: undefined symbol');

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
