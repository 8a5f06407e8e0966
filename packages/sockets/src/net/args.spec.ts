import * as nodeNet from 'node:net';
import { expect } from 'chai';
import { normalizeArgs, validateConnect, validateListen, validatePort, validateTimeout } from './args.js';

/** What Node 20 throws for `fn` (class name, code, message), or null. */
function nodeThrows(fn: () => unknown): { name: string; code?: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (e) {
    const err = e as Error & { code?: string };
    return { name: err.constructor.name, code: err.code, message: err.message };
  }
}

function ours(fn: () => unknown) {
  return nodeThrows(fn);
}

describe('net argument forms (as Node 20 lib/net.js)', () => {
  describe('validatePort', () => {
    it('accepts integral numbers and numeric strings 0..65535', () => {
      expect([0, 1, 80, '8080', ' 443 ', 65535].map((p) => validatePort(p))).to.deep.equal([
        0, 1, 80, 8080, 443, 65535,
      ]);
    });

    // Node's listen() validates with the same validator and name (and throws before binding).
    for (const bad of [65536, 70000, -1, 1.5, NaN, '', ' ', 'x1', '0x', true, {}, [80]]) {
      it(`refuses ${typeof bad === 'number' ? String(bad) : JSON.stringify(bad)} with Node's error`, () => {
        const node = nodeThrows(() => nodeNet.createServer().listen({ port: bad as number }));
        expect(node).to.not.equal(null);
        const mine = ours(() => validatePort(bad, 'options.port'));
        if (node!.code === 'ERR_SOCKET_BAD_PORT') expect(mine).to.deep.equal(node);
        else expect(mine?.code).to.equal('ERR_SOCKET_BAD_PORT'); // Node refuses these earlier, by type
      });
    }

    it('refuses null and undefined (callers map a missing port first, as Node)', () => {
      for (const bad of [null, undefined]) expect(() => validatePort(bad)).to.throw(RangeError);
    });
  });

  describe('normalizeArgs', () => {
    const cb = () => {};
    it('(port[, host][, cb]), (options[, cb]), (path[, cb]) and ()', () => {
      expect(normalizeArgs([80, '10.0.0.1', cb])).to.deep.equal([{ port: 80, host: '10.0.0.1' }, cb]);
      expect(normalizeArgs([80, cb])).to.deep.equal([{ port: 80 }, cb]);
      expect(normalizeArgs(['8080'])).to.deep.equal([{ port: '8080' }, null]);
      expect(normalizeArgs([{ port: 1 }, cb])).to.deep.equal([{ port: 1 }, cb]);
      expect(normalizeArgs(['/tmp/sock'])).to.deep.equal([{ path: '/tmp/sock' }, null]);
      expect(normalizeArgs([])).to.deep.equal([{}, null]);
      expect(normalizeArgs([80, 511])).to.deep.equal([{ port: 80 }, null]); // a backlog is not a host
    });
  });

  describe('validateConnect', () => {
    it('defaults the host to localhost and the local port to any', () => {
      expect(validateConnect({ port: '7' })).to.deep.include({ port: 7, host: 'localhost', localPort: 0 });
    });

    it('throws what Node throws for missing and bad arguments', () => {
      for (const options of [
        {},
        { port: 70000 },
        { port: true },
        { port: 1, localAddress: 'x' },
        { port: 1, host: 5 },
      ]) {
        const node = nodeThrows(() =>
          new nodeNet.Socket().connect(options as nodeNet.NetConnectOpts).destroy(),
        );
        expect(
          ours(() => validateConnect(options as never)),
          JSON.stringify(options),
        ).to.deep.equal(node);
      }
    });

    it('refuses a Unix-domain path with a clear message', () => {
      expect(() => validateConnect({ path: '/tmp/s' })).to.throw(TypeError, /TCP over IPv4 only/);
    });
  });

  describe('validateListen', () => {
    it('listen(), listen(cb), listen(null) and listen({ port: undefined }) mean port 0', () => {
      const cb = () => {};
      expect(validateListen([]).port).to.equal(0);
      expect(validateListen([cb])).to.deep.include({ port: 0, cb });
      expect(validateListen([null]).port).to.equal(0);
      expect(validateListen([{ port: undefined }]).port).to.equal(0);
    });

    it('(port, host, backlog, cb) and (port, backlog) as Node reads them', () => {
      const cb = () => {};
      expect(validateListen([80, '10.0.0.1', 16, cb])).to.deep.include({
        port: 80,
        host: '10.0.0.1',
        backlog: 16,
        cb,
      });
      expect(validateListen([80, 32])).to.deep.include({ port: 80, host: undefined, backlog: 32 });
      expect(validateListen([{ port: 81, backlog: 8 }])).to.deep.include({ port: 81, backlog: 8 });
    });

    it('an options object with neither port nor path: Node ERR_INVALID_ARG_VALUE', () => {
      const node = nodeThrows(() => nodeNet.createServer().listen({ host: 'x' }));
      expect(ours(() => validateListen([{ host: 'x' }]))?.code).to.equal(node?.code);
    });
  });

  it('validateTimeout: non-negative finite numbers, as Node getTimerDuration', () => {
    expect(validateTimeout(0)).to.equal(0);
    expect(validateTimeout(2 ** 40)).to.equal(2 ** 31 - 1);
    for (const [bad, code] of [
      [-1, 'ERR_OUT_OF_RANGE'],
      [Infinity, 'ERR_OUT_OF_RANGE'],
      ['5', 'ERR_INVALID_ARG_TYPE'],
    ] as const) {
      const node = nodeThrows(() => new nodeNet.Socket().setTimeout(bad as number));
      expect(node?.code).to.equal(code);
      expect(ours(() => validateTimeout(bad))?.code).to.equal(code);
    }
  });
});
