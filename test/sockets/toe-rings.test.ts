/**
 * The low-level API (FlexTOE's libTOE layer) end to end between two x86 stacks on the virtual
 * wire, using nothing but rings, bumps and pollers: ping-pong and bulk transfers checked byte
 * for byte, with small rings so every transfer wraps them many times.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Prng } from '@flextoe/core';
import {
  createToe,
  describeEvents,
  ToeEvent,
  type Poller,
  type Toe,
  type ToeConnection,
  type ToeListener,
} from '@flextoe/sockets';
import { stacksOnWire, type WireStacks } from './toe-fixtures.js';

type Spans = [Uint8Array, Uint8Array | null];

/** Copies `n` bytes from one pair of ring views to another (each pair may be split by a wrap). */
function copySpans(src: Spans, dst: Spans, n: number): void {
  let si = 0;
  let so = 0;
  let di = 0;
  let dOff = 0;
  while (n > 0) {
    const s = src[si]!;
    const d = dst[di]!;
    const k = Math.min(n, s.length - so, d.length - dOff);
    d.set(s.subarray(so, so + k), dOff);
    n -= k;
    so += k;
    dOff += k;
    if (so === s.length) {
      si++;
      so = 0;
    }
    if (dOff === d.length) {
      di++;
      dOff = 0;
    }
  }
}

/** Waits until `c` is ready for something in `interest`; fails the test after `ms`. */
async function ready(p: Poller<ToeConnection>, c: ToeConnection, interest: number, ms = 10_000) {
  if (c.closed)
    throw new Error(`waiting for ${describeEvents(interest)} on a closed connection (${c.error})`);
  p.modify(c, interest);
  const r = await p.wait(ms);
  if (r.length === 0) throw new Error(`no ${describeEvents(interest)} within ${ms} ms (${c.state})`);
  return r[0]!.events;
}

/** An echo server on the low-level API: one poller (one context) for every connection. */
function zeroCopyEchoServer(toe: Toe, port: number) {
  const poller = toe.poller();
  const listener = toe.listen(port);
  poller.add(listener, ToeEvent.Readable);
  let running = true;
  const counts = { accepted: 0, bytes: 0, maxReady: 0 };
  const done = (async () => {
    while (running) {
      const list = await poller.wait(50);
      counts.maxReady = Math.max(counts.maxReady, list.length);
      for (const { target, events } of list) {
        if (target === listener) {
          for (let c = listener.accept(); c !== null; c = listener.accept()) {
            counts.accepted++;
            poller.add(c, ToeEvent.Readable);
          }
          continue;
        }
        const c = target as ToeConnection;
        if ((events & ToeEvent.Hangup) !== 0) continue;
        const n = Math.min(c.rxAvailable, c.txSpace);
        if (n > 0) {
          copySpans(c.rxBuffers(), c.txBuffers(), n);
          c.appended(n);
          c.consumed(n);
          counts.bytes += n;
        }
        if (c.rxAvailable > 0)
          poller.modify(c, ToeEvent.Writable); // TX ring full: wait for space
        else if (c.eof) {
          c.shutdown();
          poller.modify(c, 0); // only the final hangup is left to see
        } else poller.modify(c, ToeEvent.Readable);
      }
    }
  })();
  return {
    poller,
    listener,
    counts,
    async stop() {
      running = false;
      await done;
      listener.close();
      poller.close();
    },
  };
}

/** A client on the low-level API: `rounds` messages of random sizes, each echo checked. */
async function pingPong(toe: Toe, address: string, port: number, rounds: number, seed: number) {
  const rng = new Prng(seed);
  const c = toe.connect(address, port);
  const p = toe.poller<ToeConnection>();
  p.add(c, ToeEvent.Writable);
  expect(describeEvents(await ready(p, c, ToeEvent.Writable))).to.equal('writable');
  for (let round = 0; round < rounds; round++) {
    const msg = randomBytes(1 + rng.nextInt(3000));
    let sent = 0;
    let got = 0;
    while (got < msg.length) {
      if (sent < msg.length && c.txSpace > 0) {
        const n = Math.min(c.txSpace, msg.length - sent);
        copySpans([msg.subarray(sent, sent + n), null], c.txBuffers(), n);
        c.appended(n);
        sent += n;
      }
      if (c.rxAvailable > 0) {
        const n = Math.min(c.rxAvailable, msg.length - got);
        const echo = Buffer.alloc(n);
        copySpans(c.rxBuffers(), [echo, null], n);
        c.consumed(n);
        expect(echo.equals(msg.subarray(got, got + n)), `round ${round} bytes ${got}..${got + n}`).to.equal(
          true,
        );
        got += n;
        continue;
      }
      await ready(p, c, sent < msg.length ? ToeEvent.Readable | ToeEvent.Writable : ToeEvent.Readable);
    }
  }
  c.shutdown();
  // The server echoes our FIN: read end of stream, then the connection closes.
  while (!c.closed) await ready(p, c, ToeEvent.Readable);
  expect(c.eof).to.equal(true);
  expect(c.error).to.equal(undefined);
  p.close();
}

describe('sockets: the low-level API (toe) over the virtual wire', function () {
  this.timeout(60_000);
  let net: WireStacks;
  let server: Toe;
  let client: Toe;

  beforeEach(async () => {
    // 4 KiB rings: every message of the tests below wraps them.
    net = await stacksOnWire(2, {}, { rxBufferBytes: 4096, txBufferBytes: 4096 });
    server = createToe(net.stacks[0]!);
    client = createToe(net.stacks[1]!);
  });
  afterEach(() => net.close());

  it('ping-pongs 150 messages of 1..3000 B through 4 KiB rings, byte-exact', async () => {
    const echo = zeroCopyEchoServer(server, 7);
    await pingPong(client, net.address(0), 7, 150, 1);
    await echo.stop();
    expect(echo.counts.accepted).to.equal(1);
    expect(echo.counts.bytes).to.be.greaterThan(150);
  });

  it('serves 32 connections from one poller at once', async () => {
    const echo = zeroCopyEchoServer(server, 7);
    await Promise.all(Array.from({ length: 32 }, (_, i) => pingPong(client, net.address(0), 7, 8, 100 + i)));
    await echo.stop();
    expect(echo.counts.accepted).to.equal(32);
    // More than one connection was ready in one poll: the poller batches a context's events.
    expect(echo.counts.maxReady).to.be.greaterThan(1);
  });

  it('moves 2 MiB each way at once in odd-sized bumps, wrapping both rings, byte-exact', async () => {
    const SIZE = 2 * 1024 * 1024;
    const wraps = { rx: 0, tx: 0 };
    /** Sends `out` and receives `SIZE` bytes on `c`, bumping odd amounts; returns what arrived. */
    async function duplex(c: ToeConnection, p: Poller<ToeConnection>, out: Buffer, seed: number) {
      const rng = new Prng(seed);
      const got = Buffer.alloc(SIZE);
      let sent = 0;
      let received = 0;
      while (received < SIZE || sent < SIZE) {
        let progress = false;
        if (sent < SIZE && c.txSpace > 0) {
          const spans = c.txBuffers();
          if (spans[1] !== null) wraps.tx++;
          const n = Math.min(c.txSpace, SIZE - sent, 1 + rng.nextInt(7919));
          copySpans([out.subarray(sent, sent + n), null], spans, n);
          c.appended(n);
          sent += n;
          progress = true;
          if (sent === SIZE) c.shutdown();
        }
        if (c.rxAvailable > 0) {
          const spans = c.rxBuffers();
          if (spans[1] !== null) wraps.rx++;
          const n = Math.min(c.rxAvailable, 1 + rng.nextInt(5003));
          copySpans(spans, [got.subarray(received, received + n), null], n);
          c.consumed(n);
          received += n;
          progress = true;
        }
        if (!progress) {
          const interest = (sent < SIZE ? ToeEvent.Writable : 0) | (received < SIZE ? ToeEvent.Readable : 0);
          const events = await ready(p, c, interest);
          expect(events & ToeEvent.Error, `error: ${c.error?.message}`).to.equal(0);
        }
      }
      while (!c.eof) await ready(p, c, ToeEvent.Readable);
      return got;
    }
    const listener: ToeListener = server.listen(9000);
    const sp = server.poller<ToeConnection | ToeListener>();
    sp.add(listener, ToeEvent.Readable);
    const c1 = client.connect(net.address(0), 9000);
    await sp.wait(10_000);
    const s1 = listener.accept()!;
    expect(s1, 'accepted').to.not.equal(null);
    sp.close();
    const cp = client.poller<ToeConnection>();
    cp.add(c1, ToeEvent.Writable);
    await cp.wait(10_000);
    const sp2 = server.poller<ToeConnection>();
    sp2.add(s1, ToeEvent.Readable);
    const up = randomBytes(SIZE);
    const down = randomBytes(SIZE);
    const [atServer, atClient] = await Promise.all([duplex(s1, sp2, down, 2), duplex(c1, cp, up, 3)]);
    expect(atServer.equals(up), 'client -> server bytes').to.equal(true);
    expect(atClient.equals(down), 'server -> client bytes').to.equal(true);
    // 2 MiB through 4 KiB rings: the free and readable regions wrapped hundreds of times.
    expect(wraps.rx).to.be.greaterThan(100);
    expect(wraps.tx).to.be.greaterThan(100);
    listener.close();
  });

  it('is level-triggered by default and edge-triggered with ToeEvent.Edge', async () => {
    const listener = server.listen(7);
    const sp = server.poller<ToeConnection | ToeListener>();
    sp.add(listener, ToeEvent.Readable);
    const c = client.connect(net.address(0), 7);
    await sp.wait(10_000);
    const s = listener.accept()!;
    sp.remove(listener);
    sp.add(s, ToeEvent.Readable);
    expect(sp.poll()).to.have.length(0); // nothing to read yet
    const cp = client.poller<ToeConnection>();
    cp.add(c, ToeEvent.Writable);
    await cp.wait(10_000);
    c.write(Buffer.from('0123456789'));
    const first = await sp.wait(10_000);
    expect(first.map((r) => [r.target, describeEvents(r.events)])).to.deep.equal([[s, 'readable']]);
    // Not consumed: level-triggered reports it again, and again.
    expect(sp.poll().map((r) => r.events)).to.deep.equal([ToeEvent.Readable]);
    expect(sp.poll().map((r) => r.events)).to.deep.equal([ToeEvent.Readable]);
    s.consumed(10);
    expect(sp.poll()).to.have.length(0);
    // Edge-triggered: once per arrival, even while the bytes stay unread.
    sp.modify(s, ToeEvent.Readable | ToeEvent.Edge);
    c.write(Buffer.from('abc'));
    expect((await sp.wait(10_000)).map((r) => r.events)).to.deep.equal([ToeEvent.Readable]);
    expect(sp.poll()).to.have.length(0);
    c.write(Buffer.from('def'));
    expect((await sp.wait(10_000)).map((r) => r.events)).to.deep.equal([ToeEvent.Readable]);
    const dst = Buffer.alloc(16);
    expect(dst.toString('latin1', 0, s.read(dst))).to.equal('abcdef');
    c.abort();
    sp.close();
    cp.close();
    listener.close();
  });

  it('reports a refused connect as error|hangup with ECONNREFUSED, once', async () => {
    const c = client.connect(net.address(0), 4444);
    const p = client.poller<ToeConnection>();
    p.add(c, ToeEvent.Writable);
    const r = await p.wait(10_000);
    expect(r.map((x) => describeEvents(x.events))).to.deep.equal(['hangup|error']);
    expect(c.error?.code).to.equal('ECONNREFUSED');
    expect(c.txSpace).to.equal(0);
    expect(p.size, 'a hung-up connection leaves its poller').to.equal(0);
    expect(p.poll()).to.have.length(0);
  });

  it('keeps bytes that arrived before the close readable after it', async () => {
    const listener = server.listen(7);
    const sp = server.poller<ToeConnection | ToeListener>();
    sp.add(listener, ToeEvent.Readable);
    const c = client.connect(net.address(0), 7);
    await sp.wait(10_000);
    const s = listener.accept()!;
    sp.remove(listener);
    // Edge-triggered: the data and the FIN may land in different poll rounds; wait for the FIN.
    sp.add(s, ToeEvent.Readable | ToeEvent.ReadHangup | ToeEvent.Edge);
    const cp = client.poller<ToeConnection>();
    cp.add(c, ToeEvent.Writable);
    await cp.wait(10_000);
    c.write(Buffer.from('last words'));
    c.shutdown();
    let events = 0;
    while ((events & ToeEvent.ReadHangup) === 0) {
      const r = await sp.wait(10_000);
      expect(r, 'no FIN within 10 s').to.have.length(1);
      events = r[0]!.events;
    }
    expect(describeEvents(events)).to.equal('readable|read-hangup');
    expect(s.rxAvailable).to.equal('last words'.length);
    // Close our side without reading: LAST-ACK, then CLOSED when the client acknowledges.
    s.shutdown();
    sp.modify(s, 0);
    const end = await sp.wait(10_000);
    expect(end[0]!.events & ToeEvent.Hangup).to.equal(ToeEvent.Hangup);
    expect(s.closed).to.equal(true);
    expect(s.error).to.equal(undefined);
    const dst = Buffer.alloc(32);
    expect(dst.toString('latin1', 0, s.read(dst))).to.equal('last words');
    expect(s.eof).to.equal(true);
    cp.close();
    sp.close();
    listener.close();
  });

  it('resets connections beyond the accept backlog and counts them', async () => {
    const listener = server.listen(7, { backlog: 2 });
    const clients = Array.from({ length: 4 }, () => client.connect(net.address(0), 7));
    const p = client.poller<ToeConnection>();
    for (const c of clients) p.add(c, ToeEvent.Writable);
    const outcomes = new Map<ToeConnection, string>();
    // Established first (writable), and the two beyond the backlog are then reset.
    for (let i = 0; i < 20 && [...outcomes.values()].filter((o) => o !== 'writable').length < 2; i++) {
      for (const r of await p.wait(1000)) {
        outcomes.set(r.target, r.target.error?.code ?? describeEvents(r.events));
        if (!r.target.closed) p.modify(r.target, 0);
      }
    }
    expect(listener.pending).to.equal(2);
    expect(listener.overflows).to.equal(2);
    expect([...outcomes.values()].sort()).to.deep.equal(['ECONNRESET', 'ECONNRESET', 'writable', 'writable']);
    listener.close(); // resets the two never accepted
    p.close();
  });
});
