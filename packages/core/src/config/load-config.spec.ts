import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './errors.js';
import { loadConfig, resolveConfig } from './load-config.js';
import { DEFAULT_CONFIG } from './schema.js';

describe('loadConfig', () => {
  let dir: string;
  const write = (name: string, content: unknown) =>
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  const load = (options: Parameters<typeof loadConfig>[0] = {}) =>
    loadConfig({ env: {}, cwd: dir, ...options });
  const thrown = (fn: () => unknown): ConfigError => {
    try {
      fn();
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flextoe-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('defaults', () => {
    it('is x86 on the virtual port with FlexTOE stack defaults when nothing is configured', () => {
      const { config, source, file } = load();
      expect(config).to.deep.equal(DEFAULT_CONFIG);
      expect(config.backend).to.equal('x86');
      expect(config.port).to.deep.equal({ driver: 'virtual' });
      expect(config.stack).to.include({
        mss: 1448,
        flowGroups: 4,
        cc: 'dctcp-rate',
        rxBufferBytes: 262144,
        maxFlows: 16384,
      });
      expect(source).to.deep.equal({
        backend: 'default',
        port: 'default',
        stack: 'default',
        timeMode: 'default',
        x86: 'default',
        agilioSim: 'default',
        bluefieldSim: 'default',
        modules: 'default',
      });
      expect(file).to.equal(null);
    });

    it('returns a config the caller may mutate without touching the defaults', () => {
      const { config } = load();
      config.stack.mss = 9000;
      config.x86.threads = 2;
      expect(DEFAULT_CONFIG.stack.mss).to.equal(1448);
      expect(load().config.x86).to.deep.equal({});
    });
  });

  describe('precedence: flag > env > file > default', () => {
    beforeEach(() => write('flextoe.config.json', { backend: 'bluefield-sim', timeMode: 'virtual' }));

    it('file beats default', () => {
      const r = load();
      expect(r.config.backend).to.equal('bluefield-sim');
      expect(r.source.backend).to.equal('file');
      expect(r.source.timeMode).to.equal('file');
      expect(r.source.port).to.equal('default');
      expect(r.file).to.equal(join(dir, 'flextoe.config.json'));
    });

    it('env beats file', () => {
      const r = load({ env: { FLEXTOE_BACKEND: 'agilio-sim' } });
      expect(r.config.backend).to.equal('agilio-sim');
      expect(r.source.backend).to.equal('env');
      expect(r.config.timeMode).to.equal('virtual'); // the rest of the file still applies
    });

    it('flag beats env', () => {
      const r = load({ env: { FLEXTOE_BACKEND: 'agilio-sim' }, argv: ['info', '--backend', 'x86'] });
      expect(r.config.backend).to.equal('x86');
      expect(r.source.backend).to.equal('flag');
    });

    it('reads --backend=NAME and ignores options it does not own', () => {
      expect(load({ argv: ['--json', '--backend=agilio-sim', 'info'] }).config.backend).to.equal(
        'agilio-sim',
      );
    });

    it('treats an empty FLEXTOE_BACKEND as unset', () => {
      expect(load({ env: { FLEXTOE_BACKEND: '' } }).source.backend).to.equal('file');
    });

    it('an object (resolveConfig) beats env and file', () => {
      const r = resolveConfig({ backend: 'x86' }, { env: { FLEXTOE_BACKEND: 'agilio-sim' }, cwd: dir });
      expect(r.config.backend).to.equal('x86');
      expect(r.source.backend).to.equal('object');
      expect(r.config.timeMode).to.equal('virtual');
    });

    it('an undefined field in the object does not hide lower layers', () => {
      const r = resolveConfig({ backend: undefined, stack: { mss: undefined } }, { env: {}, cwd: dir });
      expect(r.config.backend).to.equal('bluefield-sim');
      expect(r.source.stack).to.equal('default');
    });
  });

  describe('merging', () => {
    it('merges stack options field by field across layers', () => {
      write('flextoe.config.json', { stack: { mss: 9000, cc: 'timely' } });
      const r = resolveConfig({ stack: { cc: 'newreno' } }, { env: {}, cwd: dir });
      expect(r.config.stack).to.include({ mss: 9000, cc: 'newreno', flowGroups: 4 });
      expect(r.source.stack).to.equal('object');
    });

    it('replaces the port as a whole, since its fields depend on the driver', () => {
      write('flextoe.config.json', { port: { driver: 'tap', ifname: 'tap0', ip: '10.0.0.2/24' } });
      const r = resolveConfig({ port: { driver: 'virtual', network: 'lab' } }, { env: {}, cwd: dir });
      expect(r.config.port).to.deep.equal({ driver: 'virtual', network: 'lab' });
    });

    it('accepts a full tap and dpdk port', () => {
      const tap = {
        driver: 'tap',
        ifname: 'tap0',
        ip: '10.0.0.2/24',
        gateway: '10.0.0.1',
        mac: '02:00:00:00:00:01',
      } as const;
      expect(resolveConfig({ port: tap }, { env: {}, cwd: dir }).config.port).to.deep.equal(tap);
      const dpdk = {
        driver: 'dpdk',
        vdev: 'net_af_packet0,iface=veth0',
        ip: '10.1.0.2/16',
        eal: ['--no-huge'],
      } as const;
      expect(resolveConfig({ port: dpdk }, { env: {}, cwd: dir }).config.port).to.deep.equal(dpdk);
    });

    it('ignores $schema, which is there for editors', () => {
      write('flextoe.config.json', { $schema: './flextoe.schema.json', backend: 'agilio-sim' });
      expect(load().config).to.not.have.property('$schema');
    });

    it('keeps backend-specific objects permissive for now', () => {
      write('flextoe.config.json', { agilioSim: { seed: 7 } });
      expect(load().config.agilioSim).to.deep.equal({ seed: 7 });
    });
  });

  describe('modules', () => {
    it('resolves a module path against the config file that wrote it, and an object one against cwd', () => {
      mkdirSync(join(dir, 'conf'));
      write('conf/lab.json', { modules: [{ path: './mods/count.mjs', options: { port: 80 } }] });
      const fromFile = load({ argv: ['--config', 'conf/lab.json'] });
      expect(fromFile.config.modules).to.deep.equal([
        { path: join(dir, 'conf/mods/count.mjs'), options: { port: 80 } },
      ]);
      const fromObject = load({ overrides: { modules: [{ path: 'count.mjs' }, { path: '/abs/m.mjs' }] } });
      expect(fromObject.config.modules).to.deep.equal([
        { path: join(dir, 'count.mjs') },
        { path: '/abs/m.mjs' },
      ]);
      // The object's list replaces the file's as a whole (an order of modules does not merge).
      const both = load({ argv: ['--config', 'conf/lab.json'], overrides: { modules: [] } });
      expect(both.config.modules).to.deep.equal([]);
      expect(load().config.modules).to.deep.equal([]);
    });

    it('names a module entry without a path, or with an unknown key', () => {
      const noPath = thrown(() => load({ overrides: { modules: [{ options: {} } as never] } }));
      expect(noPath.message).to.match(/modules\/0/);
      expect(noPath.message).to.match(/path/);
      const extra = thrown(() => load({ overrides: { modules: [{ path: 'm.mjs', option: {} } as never] } }));
      expect(extra.message).to.match(/modules\/0/);
      expect(extra.message).to.match(/option\b/);
    });
  });

  describe('config file', () => {
    it('reads --config PATH relative to cwd', () => {
      mkdirSync(join(dir, 'conf'));
      write('conf/lab.json', { backend: 'agilio-sim' });
      write('flextoe.config.json', { backend: 'bluefield-sim' }); // ignored: --config wins
      const r = load({ argv: ['--config', 'conf/lab.json'] });
      expect(r.config.backend).to.equal('agilio-sim');
      expect(r.file).to.equal(join(dir, 'conf/lab.json'));
    });

    it('is an error when the file named by --config is missing', () => {
      const err = thrown(() => load({ argv: ['--config', 'missing.json'] }));
      expect(err.message).to.equal(
        `flextoe config: cannot read config file ${join(dir, 'missing.json')}: no such file (from flag --config)`,
      );
    });

    it('is fine when the implicit flextoe.config.json is missing', () => {
      expect(load().file).to.equal(null);
    });

    it('reports invalid JSON with the path and the position', () => {
      write('flextoe.config.json', '{\n  "backend": "x86",\n}\n');
      const err = thrown(() => load());
      expect(err.message).to.include(`config file ${join(dir, 'flextoe.config.json')} is not valid JSON`);
      expect(err.message).to.match(/line 3, column 1\)/);
    });

    it('reports a truncated file at its end', () => {
      write('flextoe.config.json', '{ "backend":');
      expect(thrown(() => load()).message).to.include('(line 1, column 13)');
    });

    it('rejects a file that is not a JSON object', () => {
      write('flextoe.config.json', '["x86"]');
      expect(thrown(() => load()).message).to.include('must hold a JSON object, but holds ["x86"]');
    });

    it('reports an unreadable path', () => {
      mkdirSync(join(dir, 'flextoe.config.json'));
      expect(thrown(() => load()).message)
        .to.include('cannot read config file')
        .and.include('it is a directory');
    });

    it('accepts a byte-order mark', () => {
      write('flextoe.config.json', '\ufeff{"backend":"agilio-sim"}');
      expect(load().config.backend).to.equal('agilio-sim');
    });
  });

  it('says when --backend or --config has no value', () => {
    expect(thrown(() => load({ argv: ['--backend'] })).message).to.equal(
      'flextoe config: --backend needs a value (one of: x86, agilio-sim, bluefield-sim)',
    );
  });
});

describe('loadConfig origins', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flextoe-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says in words where each value came from, per stack field', () => {
    const file = join(dir, 'flextoe.config.json');
    writeFileSync(
      file,
      JSON.stringify({ stack: { mss: 9000 }, port: { driver: 'virtual', network: 'lab' } }),
    );
    const r = loadConfig({ env: { FLEXTOE_BACKEND: 'agilio-sim' }, cwd: dir });
    expect(r.origin['/backend']).to.equal('env FLEXTOE_BACKEND');
    expect(r.origin['/stack/mss']).to.equal(`file ${file}`);
    expect(r.origin['/stack/cc']).to.equal('default');
    expect(r.origin['/port']).to.equal(`file ${file}`);
    expect(r.origin['/timeMode']).to.equal('default');
  });

  it('treats __proto__ in a file as an unknown key, not as a prototype', () => {
    writeFileSync(join(dir, 'flextoe.config.json'), '{"__proto__": {"backend": "agilio-sim"}}');
    expect(() => loadConfig({ env: {}, cwd: dir })).to.throw(ConfigError, '/__proto__ is not a known option');
  });
});
