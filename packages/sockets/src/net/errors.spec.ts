import { expect } from 'chai';
import { TcpError } from '@flextoe/core';
import {
  errnoException,
  exceptionWithHostPort,
  fromTcpError,
  nodeError,
  uvExceptionWithHostPort,
} from './errors.js';

describe("net errors in Node's shapes", () => {
  it('connect errors: "connect ECONNREFUSED 10.0.0.1:7" with errno, syscall, address, port', () => {
    const e = exceptionWithHostPort('ECONNREFUSED', 'connect', '10.0.0.1', 7);
    expect(e.message).to.equal('connect ECONNREFUSED 10.0.0.1:7');
    expect({ ...e }).to.deep.equal({
      errno: -111,
      code: 'ECONNREFUSED',
      syscall: 'connect',
      address: '10.0.0.1',
      port: 7,
    });
  });

  it('listen errors: "listen EADDRINUSE: address already in use 0.0.0.0:80"', () => {
    const e = uvExceptionWithHostPort('EADDRINUSE', 'listen', '0.0.0.0', 80);
    expect(e.message).to.equal('listen EADDRINUSE: address already in use 0.0.0.0:80');
    expect(e.errno).to.equal(-98);
  });

  it('read errors: "read ECONNRESET" (errno -104)', () => {
    const e = errnoException('ECONNRESET', 'read');
    expect([e.message, e.errno, e.syscall]).to.deep.equal(['read ECONNRESET', -104, 'read']);
  });

  it("Node's own errors print their code: RangeError [ERR_X]: message", () => {
    const e = nodeError('ERR_SOCKET_BAD_PORT', 'bad', RangeError);
    expect(e).to.be.instanceOf(RangeError);
    expect(String(e)).to.equal('RangeError [ERR_SOCKET_BAD_PORT]: bad');
    expect(e.stack).to.match(/^RangeError \[ERR_SOCKET_BAD_PORT\]: bad/);
  });

  it('a core TcpError maps to connect (handshake) or read (later), keeping the core error as cause', () => {
    const core = new TcpError('ETIMEDOUT', 'no acknowledgment');
    const during = fromTcpError(core, true, { address: '10.0.0.9', port: 80 });
    expect(during.message).to.equal('connect ETIMEDOUT 10.0.0.9:80');
    const later = fromTcpError(core, false, { address: '10.0.0.9', port: 80 });
    expect([later.message, later.errno, (later as Error & { cause?: unknown }).cause]).to.deep.equal([
      'read ETIMEDOUT',
      -110,
      core,
    ]);
  });
});
