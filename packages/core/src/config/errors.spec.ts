import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './errors.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import type { FlexToeConfigInput } from './schema.js';

/** Runs the loader in an empty directory with an empty environment and returns the ConfigError. */
function errorOf(options: LoadConfigOptions): ConfigError {
  try {
    loadConfig({ env: {}, cwd: emptyDir, ...options });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
const objectError = (overrides: unknown) => errorOf({ overrides: overrides as FlexToeConfigInput });

let emptyDir: string;

describe('ConfigError messages', () => {
  before(() => (emptyDir = mkdtempSync(join(tmpdir(), 'flextoe-config-'))));
  after(() => rmSync(emptyDir, { recursive: true, force: true }));

  it('carries a stable code, the field, the value and the choices', () => {
    const err = errorOf({ env: { FLEXTOE_BACKEND: 'agilio' } });
    expect(err.code).to.equal('ERR_FLEXTOE_CONFIG');
    expect(err.field).to.equal('/backend');
    expect(err.value).to.equal('agilio');
    expect(err.allowed).to.deep.equal(['x86', 'agilio-sim', 'bluefield-sim']);
    expect(err.message).to.equal(
      'flextoe config: /backend is "agilio" but must be one of: x86, agilio-sim, bluefield-sim (from env FLEXTOE_BACKEND)',
    );
  });

  it('names the flag when the bad backend came from --backend', () => {
    expect(errorOf({ argv: ['--backend', 'bf'] }).message)
      .to.include('/backend is "bf"')
      .and.include('(from flag --backend)');
  });

  it('lists the known options for an unknown key', () => {
    const err = objectError({ stack: { msss: 1500 } });
    expect(err.field).to.equal('/stack/msss');
    expect(err.message).to.include('/stack/msss is not a known option; known: mss, flowGroups, cc,');
    expect(err.message).to.include('maxFlows');
  });

  it('lists the known top-level keys for an unknown top-level key', () => {
    expect(objectError({ backnd: 'x86' }).message).to.include(
      '/backnd is not a known option; known: backend, port, stack, timeMode, x86, agilioSim, bluefieldSim',
    );
  });

  it('gives the range for an out-of-range number', () => {
    const err = objectError({ stack: { mss: 70000 } });
    expect(err.message).to.include('/stack/mss is 70000 but must be between 536 and 9000');
    expect(err.message).to.include('(from the config object)');
  });

  it('gives the type and range for a wrong type', () => {
    expect(objectError({ stack: { mss: '1448' } }).message).to.include(
      '/stack/mss is "1448" but must be an integer between 536 and 9000',
    );
    expect(objectError({ stack: { flowGroups: 2.5 } }).message).to.include(
      '/stack/flowGroups is 2.5 but must be an integer',
    );
    expect(objectError({ stack: { delayedAck: 'yes' } }).message).to.include(
      '/stack/delayedAck is "yes" but must be a boolean',
    );
  });

  it('lists the congestion-control choices', () => {
    const err = objectError({ stack: { cc: 'cubic' } });
    expect(err.message).to.include(
      '/stack/cc is "cubic" but must be one of: dctcp-rate, dctcp-window, timely, const-rate, newreno',
    );
    expect(err.allowed).to.include('timely');
  });

  it('explains that buffer sizes are powers of two', () => {
    expect(objectError({ stack: { rxBufferBytes: 5000 } }).message).to.include(
      '/stack/rxBufferBytes is 5000 but must be a power of two from 4096 (4 KiB) to 67108864 (64 MiB)',
    );
    expect(objectError({ stack: { txBufferBytes: 128 * 1024 * 1024 } }).message).to.include(
      '/stack/txBufferBytes is 134217728',
    );
  });

  it('rejects flowGroups and oooIntervals outside 1..64', () => {
    expect(objectError({ stack: { flowGroups: 0 } }).message).to.include(
      '/stack/flowGroups is 0 but must be between 1 and 64',
    );
    expect(objectError({ stack: { oooIntervals: 65 } }).message).to.include(
      '/stack/oooIntervals is 65 but must be between 1 and 64',
    );
  });

  describe('port', () => {
    it('lists the drivers for an unknown driver', () => {
      const err = objectError({ port: { driver: 'pcap' } });
      expect(err.field).to.equal('/port/driver');
      expect(err.message).to.include('/port/driver is "pcap" but must be one of: virtual, tap, dpdk');
    });

    it('says a missing driver is missing', () => {
      expect(objectError({ port: { ip: '10.0.0.1/24' } }).message).to.include(
        '/port/driver is missing but must be one of: virtual, tap, dpdk',
      );
    });

    it('names the driver that requires a missing field', () => {
      const err = objectError({ port: { driver: 'tap', ip: '10.0.0.2/24' } });
      expect(err.field).to.equal('/port/ifname');
      expect(err.message).to.include('/port/ifname is missing but is required when driver is "tap"');
    });

    it('rejects fields of another driver', () => {
      expect(objectError({ port: { driver: 'virtual', vdev: 'net_tap0' } }).message).to.include(
        '/port/vdev is not a known option; known: driver, network, ip, mac',
      );
    });

    it('rejects a bad CIDR and says what one looks like', () => {
      for (const ip of ['10.0.0.256/24', '10.0.0.1', '10.0.0.1/33', 'fe80::1/64']) {
        const err = objectError({ port: { driver: 'tap', ifname: 'tap0', ip } });
        expect(err.field).to.equal('/port/ip');
        expect(err.message).to.include(
          `/port/ip is "${ip}" but must be an IPv4 address with prefix length, like 10.0.0.2/24`,
        );
      }
    });

    it('rejects a bad gateway and MAC', () => {
      const err = objectError({
        port: {
          driver: 'dpdk',
          vdev: 'net_tap0',
          ip: '10.0.0.2/24',
          gateway: '10.0.0.1/24',
          mac: '02:00:00:00:00',
        },
      });
      expect(err.message).to.include(
        '/port/gateway is "10.0.0.1/24" but must be an IPv4 address, like 10.0.0.1',
      );
      expect(err.message).to.include('/port/mac is "02:00:00:00:00" but must be a MAC address');
      expect(err.problems).to.have.length(2);
      expect(err.message.split('\n')).to.have.length(2);
    });

    it('rejects non-string EAL arguments', () => {
      expect(
        objectError({ port: { driver: 'dpdk', vdev: 'net_null0', ip: '10.0.0.2/24', eal: ['-l', 1] } })
          .message,
      ).to.include('/port/eal/1 is 1 but must be a string');
    });
  });

  it('rejects a wrong timeMode with its choices', () => {
    expect(objectError({ timeMode: 'realtime' }).message).to.include(
      '/timeMode is "realtime" but must be one of: virtual, paced',
    );
  });

  it('reports each bad field once even when several keywords fail', () => {
    const err = objectError({ stack: { rxBufferBytes: 'big' } });
    expect(err.problems).to.have.length(1);
  });

  it('names the file a bad value came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flextoe-config-'));
    try {
      writeFileSync(join(dir, 'flextoe.config.json'), JSON.stringify({ stack: { mss: 100 } }));
      const err = errorOf({ cwd: dir });
      expect(err.message).to.include(
        `/stack/mss is 100 but must be between 536 and 9000 (from file ${join(dir, 'flextoe.config.json')})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
