// Node `net` semantics on FlexTOE stacks: every scenario runs on Node's own net over loopback
// and on two stacks of each usable backend on a virtual wire, and must produce the same event
// sequences (the proof of "Node's order"), plus checks Node cannot be compared on (bounded
// buffering, integrity under loss).
import * as nodeNet from 'node:net';
import { expect } from 'chai';
import { NotImplementedError } from '@flextoe/core';
import { backendAvailability, pattern, stackPair, within, type StackPair } from './net-kit.js';
import {
  backpressure,
  destroyMidWrite,
  destroyWithError,
  echoClientEndsFirst,
  idleTimeout,
  refused,
  resetByPeer,
  serverCloseWithOpenConnection,
  serverEndsFirstHalfOpenClient,
} from './net-scenarios.js';
import { nodePair } from './net-kit.js';

/** Small rings keep the bounds tight and the tests quick. */
const RING_BYTES = 64 * 1024;
const CONFIG = { stack: { rxBufferBytes: RING_BYTES, txBufferBytes: RING_BYTES } };
/** A scenario that has not finished by now is hung, not slow. */
const SCENARIO_MS = 20_000;

const backends = await backendAvailability();

for (const b of backends) {
  if (!b.usable) {
    describe(`net semantics on ${b.name}`, () => {
      it(`is not built yet: createStack refuses with NotImplementedError (these tests run once it is)`, () => {
        expect(b.refusal).to.be.instanceOf(NotImplementedError);
      });
    });
    continue;
  }

  // One pair of stacks per backend for the whole file (building stacks costs seconds on a busy
  // machine); every test uses its own ports, and tests that break a stack build their own.
  describe(`on ${b.name}`, () => {
    let pair: StackPair;
    before(async function () {
      this.timeout(60_000);
      pair = await stackPair(b.name, { config: CONFIG });
    });
    after(async () => {
      await pair?.close();
    });

    describe(`net semantics on ${b.name} (same events as Node's net on loopback)`, function () {
      this.timeout(60_000);

      it('connect, echo, client ends first: connect, ready, data, finish, end, close(false)', async () => {
        const node = await within(echoClientEndsFirst(nodePair), SCENARIO_MS, 'node');
        const flex = await within(echoClientEndsFirst(pair), SCENARIO_MS, b.name);
        expect(node.client).to.deep.equal(['connect', 'ready', 'data', 'finish', 'end', 'close:false']);
        expect(flex.client).to.deep.equal(node.client);
        expect(flex.server).to.deep.equal(node.server);
        expect(flex.echoed).to.equal('ping');
      });

      it('half-close: a half-open client still writes after the server ends, and the server reads it', async () => {
        const node = await within(serverEndsFirstHalfOpenClient(nodePair), SCENARIO_MS, 'node');
        const flex = await within(serverEndsFirstHalfOpenClient(pair), SCENARIO_MS, b.name);
        expect(flex.client).to.deep.equal(node.client);
        expect(flex.server).to.deep.equal(node.server);
        expect(flex.clientGot).to.equal('hello');
        expect(flex.serverGot).to.equal('after-end');
        expect(flex.client).to.include('readyState:writeOnly');
      });

      it('refused: error ECONNREFUSED (errno, syscall connect, address, port), then close(true)', async () => {
        const node = await within(refused(nodePair), SCENARIO_MS, 'node');
        const flex = await within(refused(pair), SCENARIO_MS, b.name);
        expect(flex.client).to.deep.equal(node.client);
        expect(flex.client).to.deep.equal(['error:ECONNREFUSED', 'close:true']);
        expect(flex.error).to.deep.equal({ ...node.error, address: '10.0.0.1', port: flex.port });
      });

      it('reset by peer: the client sees ECONNRESET (syscall read) then close(true)', async () => {
        const node = await within(resetByPeer(nodePair), SCENARIO_MS, 'node');
        const resetsBefore = pair.a.stats().sockets.resets;
        const flex = await within(resetByPeer(pair), SCENARIO_MS, b.name);
        expect(flex.client).to.deep.equal(node.client);
        expect(flex.server).to.deep.equal(node.server);
        expect(flex.error).to.deep.equal(node.error);
        expect(pair.a.stats().sockets.resets - resetsBefore).to.equal(1);
      });

      it("idle timeout: 'timeout' fires, the socket stays open until destroyed", async () => {
        const node = await within(idleTimeout(nodePair), SCENARIO_MS, 'node');
        const flex = await within(idleTimeout(pair), SCENARIO_MS, b.name);
        expect(flex.client).to.deep.equal(node.client);
        expect(flex.server).to.deep.equal(node.server);
        expect(flex.client).to.deep.equal(['connect', 'ready', 'timeout', 'close:false']);
      });

      it('destroy mid-write: write callback completes, close(false); the peer gets an in-order prefix, then end', async () => {
        const node = await within(destroyMidWrite(nodePair, 32 << 20), SCENARIO_MS, 'node');
        const flex = await within(destroyMidWrite(pair, 4 << 20), SCENARIO_MS, b.name);
        expect(flex.client).to.deep.equal(node.client);
        expect(flex.server.filter((e) => e !== 'data')).to.deep.equal(
          node.server.filter((e) => e !== 'data'),
        );
        expect(flex.prefixOk, 'bytes received are a prefix of those written').to.equal(true);
        // What was already in the TX ring is delivered after destroy() (FIN after queued data).
        expect(flex.received)
          .to.be.greaterThan(0)
          .and.at.most(4 << 20);
      });

      it('destroy(err): error then close(true); the peer ends cleanly', async () => {
        const node = await within(destroyWithError(nodePair), SCENARIO_MS, 'node');
        const flex = await within(destroyWithError(pair), SCENARIO_MS, b.name);
        expect(flex.client).to.deep.equal(node.client);
        expect(flex.client).to.deep.equal(['connect', 'ready', 'error:EBOOM', 'close:true']);
        expect(flex.server).to.deep.equal(node.server);
      });

      it("server.close() with an open connection: refuses new ones, 'close' only after the last socket closes", async () => {
        const node = await within(serverCloseWithOpenConnection(nodePair), SCENARIO_MS, 'node');
        const flex = await within(serverCloseWithOpenConnection(pair), SCENARIO_MS, b.name);
        expect(flex.log).to.deep.equal(node.log);
        expect(flex.connections).to.equal(1);
        // As in Node, the server's 'close' follows the destruction of its last socket.
        expect(flex.log.indexOf('server:close')).to.be.greaterThan(flex.log.indexOf('server-socket:end'));
      });

      it('backpressure: a paused reader closes the window; write() returns false, then drain; every byte arrives', async () => {
        const node = await within(backpressure(nodePair, 64 << 20, 256 * 1024), SCENARIO_MS, 'node');
        const flex = await within(backpressure(pair, 2 << 20, 64 * 1024), SCENARIO_MS, b.name);
        for (const r of [node, flex]) {
          expect(r.sawFalse).to.equal(true);
          expect(r.drained).to.equal(true);
          expect(r.serverReadWhilePaused).to.equal(0);
          expect(r.intact).to.equal(true);
        }
        // Nothing read -> nothing consumed from the RX ring -> the window closed: the sender's
        // stack took at most the receiver's RX ring plus its own TX ring; the rest waited in the
        // Writable's buffer (one chunk past the high-water mark).
        expect(flex.acceptedWhilePaused).to.be.at.most(2 * RING_BYTES);
        expect(flex.acceptedWhilePaused).to.be.at.least(RING_BYTES);
        expect(flex.writableLengthAtFalse).to.be.at.most(16 * 1024 + 64 * 1024);
      });

      it('reads exactly what was written, in order, over a lossy and reordering wire', async () => {
        const lossy = await stackPair(b.name, {
          config: CONFIG,
          wire: { loss: 0.02, reorder: 0.05, seed: 3 },
        });
        try {
          const data = pattern(1 << 20, 5);
          const errors: string[] = [];
          const srv = lossy.a.net
            .createServer((s) => {
              s.on('error', (e: Error) => errors.push(`server: ${e.message}`));
              s.pipe(s);
            })
            .listen(7);
          const c = lossy.b.net.connect(7, '10.0.0.1');
          c.on('error', (e: Error) => errors.push(`client: ${e.message}`));
          const chunks: Buffer[] = [];
          c.on('data', (d: Buffer) => chunks.push(d));
          // Writes of odd sizes, so segments and ring wraps fall everywhere.
          for (let off = 0, k = 1; off < data.length; k++) {
            const n = Math.min(data.length - off, 1 + ((k * 7919) % 20000));
            c.write(data.subarray(off, off + n));
            off += n;
          }
          c.end();
          await within(new Promise((r) => c.on('close', r)), 30_000, 'lossy echo').catch((e: Error) => {
            throw new Error(`${e.message}; socket errors: ${errors.join('; ') || 'none'}`);
          });
          expect(errors).to.deep.equal([]);
          expect(Buffer.concat(chunks).equals(data)).to.equal(true);
          expect(c.bytesRead).to.equal(data.length);
          expect(c.bytesWritten).to.equal(data.length);
          srv.close();
        } finally {
          await lossy.close();
        }
      });
    });

    describe(`net API on ${b.name}`, function () {
      this.timeout(30_000);

      it('listen(0) picks an ephemeral port; address() reports it; listening and ref/unref return this', async () => {
        const srv = pair.a.net.createServer();
        expect(srv.address()).to.equal(null);
        expect(srv.listen(0)).to.equal(srv);
        await new Promise((r) => srv.once('listening', r));
        const addr = srv.address()!;
        expect(addr.family).to.equal('IPv4');
        expect(addr.address).to.equal('0.0.0.0');
        expect(addr.port).to.be.within(32768, 60999);
        expect(srv.listening).to.equal(true);
        expect(srv.unref()).to.equal(srv);
        expect(srv.ref()).to.equal(srv);
        await new Promise((r) => srv.close(r));
        expect(srv.address()).to.equal(null);
      });

      it('listen(port, host, backlog, cb) and the options form with the stack address', async () => {
        const s1 = pair.a.net.createServer();
        await new Promise<void>((r) => s1.listen(8080, '10.0.0.1', 16, () => r()));
        expect(s1.address()).to.deep.equal({ address: '10.0.0.1', family: 'IPv4', port: 8080 });
        const s2 = pair.a.net.createServer();
        await new Promise<void>((r) => s2.listen({ port: '8081', host: '0.0.0.0' }, () => r()));
        expect(s2.address()!.port).to.equal(8081);
        s1.close();
        s2.close();
      });

      it('socket addresses, families, readyState, pending, bytes', async () => {
        const srv = pair.a.net.createServer((s) => s.pipe(s)).listen(9000);
        const c = pair.b.net.connect({ port: 9000, host: '10.0.0.1', localPort: 40000 });
        expect(c.readyState).to.equal('opening');
        expect(c.pending).to.equal(true);
        expect(c.connecting).to.equal(true);
        await new Promise((r) => c.once('connect', r));
        expect(c.pending).to.equal(false);
        expect(c.readyState).to.equal('open');
        expect([c.remoteAddress, c.remotePort, c.remoteFamily]).to.deep.equal(['10.0.0.1', 9000, 'IPv4']);
        expect([c.localAddress, c.localPort, c.localFamily]).to.deep.equal(['10.0.0.2', 40000, 'IPv4']);
        expect(c.address()).to.deep.equal({ address: '10.0.0.2', family: 'IPv4', port: 40000 });
        expect(c.setNoDelay(true)).to.equal(c);
        expect(c.setKeepAlive(true, 1000)).to.equal(c);
        expect(c.socketOptions).to.deep.equal({
          noDelay: true,
          keepAlive: true,
          keepAliveInitialDelay: 1000,
        });
        c.end('0123456789');
        let got = 0;
        c.on('data', (d: Buffer) => (got += d.length));
        await new Promise((r) => c.once('close', r));
        expect(got).to.equal(10);
        expect([c.bytesRead, c.bytesWritten]).to.deep.equal([10, 10]);
        expect(c.readyState).to.equal('closed');
        srv.close();
      });

      it("maxConnections: excess connections are dropped with 'drop'; getConnections counts", async () => {
        const droppedBefore = pair.a.stats().sockets.dropped;
        const srv = pair.a.net.createServer(() => {}).listen(9100);
        srv.maxConnections = 1;
        const drops: unknown[] = [];
        srv.on('drop', (d) => drops.push(d));
        const c1 = pair.b.net.connect(9100, '10.0.0.1');
        await new Promise((r) => c1.once('connect', r));
        const c2 = pair.b.net.connect({ port: 9100, host: '10.0.0.1', localPort: 41000 });
        const c2Log: string[] = [];
        c2.on('end', () => c2Log.push('end'));
        c2.resume();
        await new Promise((r) => c2.once('close', r));
        expect(c2Log).to.deep.equal(['end']); // Node closes the dropped handle: the peer reads EOF
        expect(drops).to.deep.equal([
          {
            localAddress: '10.0.0.1',
            localPort: 9100,
            localFamily: 'IPv4',
            remoteAddress: '10.0.0.2',
            remotePort: 41000,
            remoteFamily: 'IPv4',
          },
        ]);
        const n = await new Promise<number>((r) => srv.getConnections((_e, k) => r(k)));
        expect(n).to.equal(1);
        expect(pair.a.stats().sockets.dropped - droppedBefore).to.equal(1);
        c1.destroy();
        await new Promise((r) => srv.close(r));
      });

      it('a paused socket (pauseOnConnect) reads nothing until resumed, then everything in order', async () => {
        let accepted!: nodeNet.Socket;
        const srv = pair.a.net.createServer(
          { pauseOnConnect: true },
          (s) => (accepted = s as unknown as nodeNet.Socket),
        );
        srv.listen(9200);
        const c = pair.b.net.connect(9200, '10.0.0.1');
        const data = pattern(100_000, 9);
        c.end(data);
        await new Promise((r) => c.once('finish', r));
        await new Promise((r) => setTimeout(r, 50));
        expect(accepted.bytesRead).to.equal(0);
        const chunks: Buffer[] = [];
        accepted.on('data', (d: Buffer) => chunks.push(d));
        accepted.resume();
        await new Promise((r) => accepted.once('end', r));
        expect(Buffer.concat(chunks).equals(data)).to.equal(true);
        accepted.end();
        await new Promise((r) => c.once('close', r));
        srv.close();
      });

      it('write() and end() while connecting send the data and the FIN once connected (as Node)', async () => {
        const srv = pair.a.net
          .createServer((s) => {
            let got = '';
            s.on('data', (d: Buffer) => (got += d.toString()));
            s.on('end', () => s.end(`got:${got}`));
          })
          .listen(9300);
        const c = new pair.b.net.Socket();
        c.connect(9300, '10.0.0.1');
        expect([c.readyState, c.pending, c.localPort]).to.deep.equal(['opening', true, undefined]);
        expect(c.address()).to.deep.equal({});
        c.write('early ');
        c.end('bird');
        let reply = '';
        c.on('data', (d: Buffer) => (reply += d.toString()));
        await new Promise((r) => c.once('close', r));
        expect(reply).to.equal('got:early bird');
        srv.close();
      });

      it('setTimeout validates like Node, returns this, and 0 disables', () => {
        const s = new pair.b.net.Socket();
        expect(s.setTimeout(100)).to.equal(s);
        expect(s.timeout).to.equal(100);
        expect(s.setTimeout(0)).to.equal(s);
        expect(() => s.setTimeout(-1))
          .to.throw(RangeError)
          .with.property('code', 'ERR_OUT_OF_RANGE');
        const c = pair.b.net.connect({ port: 1, host: '10.0.0.1', timeout: 1234 });
        expect(c.timeout).to.equal(1234); // connect's `timeout` option is setTimeout(timeout), as Node
        c.destroy();
        expect(() => s.setTimeout('1' as unknown as number))
          .to.throw(TypeError)
          .with.property('code', 'ERR_INVALID_ARG_TYPE');
        s.destroy();
      });
    });

    describe(`net bad input on ${b.name} (Node's errors, never a crash)`, function () {
      this.timeout(30_000);

      /** Runs `fn` on Node's net and on stack.net; both must throw the same class, code and message. */
      function sameThrow(fn: (net: typeof nodeNet) => unknown): Error & { code?: string } {
        let nodeErr: (Error & { code?: string }) | undefined;
        let flexErr: (Error & { code?: string }) | undefined;
        try {
          fn(nodeNet);
        } catch (e) {
          nodeErr = e as Error;
        }
        try {
          fn(pair.b.net as unknown as typeof nodeNet);
        } catch (e) {
          flexErr = e as Error;
        }
        expect(nodeErr, 'Node throws').to.be.instanceOf(Error);
        expect(flexErr, 'FlexTOE throws').to.be.instanceOf(Error);
        expect(flexErr!.constructor).to.equal(nodeErr!.constructor);
        expect(flexErr!.code).to.equal(nodeErr!.code);
        expect(flexErr!.message).to.equal(nodeErr!.message);
        return flexErr!;
      }

      it('listen on port 70000 throws RangeError ERR_SOCKET_BAD_PORT', () => {
        const e = sameThrow((net) => net.createServer().listen(70000));
        expect(e.code).to.equal('ERR_SOCKET_BAD_PORT');
      });

      it('connect to port 70000, -1 or "x1" throws ERR_SOCKET_BAD_PORT; no port throws ERR_MISSING_ARGS', () => {
        expect(sameThrow((net) => net.connect(70000, '10.0.0.1')).code).to.equal('ERR_SOCKET_BAD_PORT');
        expect(sameThrow((net) => net.connect(-1, '10.0.0.1')).code).to.equal('ERR_SOCKET_BAD_PORT');
        expect(sameThrow((net) => net.connect({ port: true as unknown as number })).code).to.equal(
          'ERR_INVALID_ARG_TYPE',
        );
        expect(sameThrow((net) => net.connect({ host: '10.0.0.1' } as nodeNet.NetConnectOpts)).code).to.equal(
          'ERR_MISSING_ARGS',
        );
        expect(sameThrow((net) => net.connect({ port: 1, localAddress: 'nope' })).code).to.equal(
          'ERR_INVALID_IP_ADDRESS',
        );
      });

      it('write(123) throws TypeError ERR_INVALID_ARG_TYPE', () => {
        const e = sameThrow((net) => {
          const s = new net.Socket();
          try {
            s.write(123 as unknown as string);
          } finally {
            s.destroy();
          }
        });
        expect(e.code).to.equal('ERR_INVALID_ARG_TYPE');
      });

      it('a bad host string: lookup and error events with ENOTFOUND (errno, syscall, hostname)', async () => {
        const run = async (net: typeof nodeNet) => {
          const log: string[] = [];
          const s = net.connect(80, 'bad host!!');
          s.on('lookup', (err: NodeJS.ErrnoException | null) => log.push(`lookup:${err?.code}`));
          const err = await new Promise<NodeJS.ErrnoException & { hostname?: string }>((r) =>
            s.once('error', r),
          );
          log.push(`error:${err.code}:${err.errno}:${err.syscall}:${err.hostname}`);
          await new Promise((r) => s.once('close', r));
          log.push('close');
          return log;
        };
        const node = await run(nodeNet);
        const flex = await run(pair.b.net as unknown as typeof nodeNet);
        expect(flex).to.deep.equal(node);
        expect(flex[1]).to.equal('error:ENOTFOUND:-3008:getaddrinfo:bad host!!');
      });

      it('a lookup function resolves names (as Node accepts one)', async () => {
        const srv = pair.a.net.createServer((s) => s.end('hi')).listen(9400);
        const c = pair.b.net.connect({
          port: 9400,
          host: 'server.test',
          lookup: (_name, _opts, cb) => cb(null, '10.0.0.1', 4),
        });
        let got = '';
        c.on('data', (d: Buffer) => (got += d.toString()));
        await new Promise((r) => c.once('close', r));
        expect(got).to.equal('hi');
        srv.close();
      });

      it('connecting to itself or localhost fails fast (no loopback on a NIC stack), never hangs', async () => {
        for (const host of ['10.0.0.2', '127.0.0.1']) {
          const c = pair.b.net.connect(80, host);
          const err = await new Promise<NodeJS.ErrnoException>((r) => c.once('error', r));
          expect(err.code).to.equal('ENETUNREACH');
          expect(err.message).to.match(/no loopback/);
        }
        const c = pair.b.net.connect(80);
        const err = await new Promise<NodeJS.ErrnoException>((r) => c.once('error', r));
        expect(err.code).to.equal('ENOTFOUND');
        const v6 = pair.b.net.connect(80, '::1');
        const e6 = await new Promise<NodeJS.ErrnoException>((r) => v6.once('error', r));
        expect([e6.code, e6.syscall]).to.deep.equal(['EAFNOSUPPORT', 'connect']);
      });

      it('write after end: ERR_STREAM_WRITE_AFTER_END to the callback and as error, then close', async () => {
        const run = async (net: typeof nodeNet, host: string, port: number) => {
          const log: string[] = [];
          const s = net.connect(port, host);
          await new Promise((r) => s.once('connect', r));
          s.end();
          s.on('error', (e: NodeJS.ErrnoException) => log.push(`error:${e.code}`));
          s.write('late', (e) => log.push(`cb:${(e as NodeJS.ErrnoException | null)?.code}`));
          await new Promise((r) => s.once('close', r));
          log.push('close');
          return log;
        };
        const nodeSrv = nodeNet.createServer((s) => s.resume()).listen(0);
        await new Promise((r) => nodeSrv.once('listening', r));
        const node = await run(nodeNet, '127.0.0.1', (nodeSrv.address() as nodeNet.AddressInfo).port);
        nodeSrv.close();
        const srv = pair.a.net.createServer((s) => s.resume()).listen(9500);
        const flex = await run(pair.b.net as unknown as typeof nodeNet, '10.0.0.1', 9500);
        srv.close();
        expect(flex).to.deep.equal(node);
        expect(flex).to.include('error:ERR_STREAM_WRITE_AFTER_END');
      });

      it('write on a never-connected socket: ERR_SOCKET_CLOSED, as Node', async () => {
        const run = async (net: typeof nodeNet) => {
          const log: string[] = [];
          const s = new net.Socket();
          s.on('error', (e: NodeJS.ErrnoException) => log.push(`error:${e.code}`));
          s.on('close', (h?: boolean) => log.push(`close:${h}`));
          s.write('x', (e) => log.push(`cb:${(e as NodeJS.ErrnoException | null)?.code}`));
          await new Promise((r) => s.once('close', r));
          return log;
        };
        expect(await run(pair.b.net as unknown as typeof nodeNet)).to.deep.equal(await run(nodeNet));
      });

      it('resetAndDestroy on an unconnected socket: ERR_SOCKET_CLOSED', async () => {
        const s = new pair.b.net.Socket();
        const err = new Promise<NodeJS.ErrnoException>((r) => s.once('error', r));
        s.resetAndDestroy();
        expect((await err).code).to.equal('ERR_SOCKET_CLOSED');
      });

      it('EADDRINUSE: a second listen on a port is an error event like Node (code, errno, syscall, address, port)', async () => {
        const s1 = pair.a.net.createServer().listen(9600);
        await new Promise((r) => s1.once('listening', r));
        const s2 = pair.a.net.createServer().listen(9600);
        const err = await new Promise<NodeJS.ErrnoException & { address?: string; port?: number }>((r) =>
          s2.once('error', r),
        );
        expect(err.message).to.equal('listen EADDRINUSE: address already in use 0.0.0.0:9600');
        expect({
          code: err.code,
          errno: err.errno,
          syscall: err.syscall,
          address: err.address,
          port: err.port,
        }).to.deep.equal({
          code: 'EADDRINUSE',
          errno: -98,
          syscall: 'listen',
          address: '0.0.0.0',
          port: 9600,
        });
        expect(s2.listening).to.equal(false);
        expect(() => s1.listen(9601))
          .to.throw(Error)
          .with.property('code', 'ERR_SERVER_ALREADY_LISTEN');
        s1.close();
      });

      it('listen on a pipe path, an fd, or a foreign address: a clear error', async () => {
        expect(() => pair.a.net.createServer().listen('/tmp/flextoe.sock')).to.throw(
          TypeError,
          /TCP over IPv4 only/,
        );
        expect(() => pair.a.net.createServer().listen({ fd: 3 })).to.throw(TypeError, /TCP over IPv4 only/);
        const s = pair.a.net.createServer().listen(9700, '10.0.0.99');
        const err = await new Promise<NodeJS.ErrnoException>((r) => s.once('error', r));
        expect(err.code).to.equal('EADDRNOTAVAIL');
        expect(s.listening).to.equal(false);
      });

      it('server.close() when not listening: ERR_SERVER_NOT_RUNNING to the callback, as Node', async () => {
        const run = (net: typeof nodeNet) =>
          new Promise<string | undefined>((r) =>
            net.createServer().close((e) => r((e as NodeJS.ErrnoException | undefined)?.code)),
          );
        expect(await run(pair.a.net as unknown as typeof nodeNet)).to.equal(await run(nodeNet));
      });

      it('after stack.close(): connect and listen report ENETDOWN as events, nothing throws', async () => {
        const own = await stackPair(b.name, { config: CONFIG });
        await own.close();
        const c = own.b.net.connect(80, '10.0.0.1');
        const e1 = await new Promise<NodeJS.ErrnoException>((r) => c.once('error', r));
        expect(e1.code).to.equal('ENETDOWN');
        const s = own.b.net.createServer().listen(80);
        const e2 = await new Promise<NodeJS.ErrnoException>((r) => s.once('error', r));
        expect(e2.code).to.equal('ENETDOWN');
      });
    });
  });
}
