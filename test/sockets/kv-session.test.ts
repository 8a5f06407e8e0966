/**
 * The memcached-protocol KV server without a network: the store's semantics (expiry, LRU,
 * memory bound, CAS, arithmetic) on a manual clock, and the session fed byte streams split at
 * every boundary, hostile input and a peer that stops reading.
 */
import { expect } from 'chai';
import { Prng } from '@flextoe/core';
import {
  ITEM_OVERHEAD_BYTES,
  KV_PROTOCOL_VERSION,
  KvSession,
  KvStore,
  StoreResult,
  type KvServerContext,
  type KvStoreOptions,
} from '@flextoe/sockets';

/** A session on a fresh store whose replies are collected. */
function harness(store: KvStore = new KvStore(), congestedAfter = Infinity) {
  const chunks: Buffer[] = [];
  let outBytes = 0;
  const state = { ended: false, congestedAfter };
  const ctx: KvServerContext = { store, serverStats: () => [['pid', 1]], resetServerStats: () => {} };
  const session = new KvSession(ctx, {
    write(chunk) {
      chunks.push(Buffer.from(chunk));
      outBytes += chunk.length;
    },
    congested: () => outBytes > state.congestedAfter,
    end: () => {
      state.ended = true;
    },
  });
  return {
    store,
    session,
    state,
    feed: (s: string | Buffer) => session.feed(typeof s === 'string' ? Buffer.from(s, 'latin1') : s),
    /** Everything replied so far, then forgotten. */
    take(): string {
      const all = Buffer.concat(chunks).toString('latin1');
      chunks.length = 0;
      return all;
    },
    drain() {
      outBytes = 0;
    },
  };
}

function manualStore(options: KvStoreOptions = {}) {
  const clock = { ms: 1_700_000_000_000 };
  return { clock, store: new KvStore({ ...options, now: () => clock.ms }) };
}

describe('sockets/apps: the KV store', () => {
  it('expires relative, absolute and negative exptimes as memcached does', () => {
    const { clock, store } = manualStore();
    const v = Buffer.from('v');
    store.store('set', 'rel', v, 0, 10); // 10 s from now
    store.store('set', 'abs', v, 0, clock.ms / 1000 + 20); // a Unix time (> 30 days)
    expect(store.store('set', 'neg', v, 0, -1)).to.equal(StoreResult.Stored);
    expect(store.get('neg'), 'negative exptime: stored expired').to.equal(null);
    clock.ms += 10_000;
    expect(store.get('rel')).to.equal(null);
    expect(store.get('abs')?.value.toString()).to.equal('v');
    clock.ms += 10_000;
    expect(store.get('abs')).to.equal(null);
    expect(store.counters.get_expired).to.equal(2);
  });

  it('touch and flush_all with a delay', () => {
    const { clock, store } = manualStore();
    store.store('set', 'a', Buffer.from('1'), 0, 5);
    expect(store.touch('a', 100, 'touch')).to.not.equal(null);
    clock.ms += 50_000;
    expect(store.get('a')).to.not.equal(null);
    store.flushAll(10);
    clock.ms += 9_000;
    expect(store.get('a'), 'before the flush time').to.not.equal(null);
    clock.ms += 1_000;
    expect(store.get('a'), 'at the flush time').to.equal(null);
    store.store('set', 'b', Buffer.from('2'), 0, 0);
    expect(store.get('b'), 'stored after the flush time').to.not.equal(null);
    expect(store.counters.get_flushed).to.equal(1);
  });

  it('evicts least recently used items to stay within maxBytes', () => {
    const store = new KvStore({ maxBytes: 100 * 1024, maxItemBytes: 20 * 1024 });
    const value = Buffer.alloc(10 * 1024, 7);
    for (let i = 0; i < 9; i++) store.store('set', `k${i}`, value, 0, 0);
    expect(store.get('k0'), 'k0 read: now the most recently used').to.not.equal(null);
    for (let i = 9; i < 30; i++) {
      store.store('set', `k${i}`, value, 0, 0);
      expect(store.bytes).to.be.at.most(store.maxBytes);
      store.get('k0');
    }
    expect(store.get('k0'), 'kept by its reads').to.not.equal(null);
    expect(store.get('k1'), 'the oldest unread went first').to.equal(null);
    expect(store.get('k29')).to.not.equal(null);
    expect(store.counters.evictions).to.be.greaterThan(15);
    const perItem = value.length + 3 + ITEM_OVERHEAD_BYTES;
    expect(store.itemCount).to.equal(Math.floor(store.maxBytes / perItem));
  });

  it('refuses values beyond maxItemBytes and items beyond maxBytes', () => {
    const store = new KvStore({ maxBytes: 4096, maxItemBytes: 8192 });
    store.store('set', 'k', Buffer.from('old'), 0, 0);
    expect(store.store('set', 'k', Buffer.alloc(5000), 0, 0)).to.equal(StoreResult.NoMemory);
    expect(store.get('k'), 'a failed set drops the stale value').to.equal(null);
    expect(store.store('set', 'k', Buffer.alloc(8193), 0, 0)).to.equal(StoreResult.TooLarge);
  });

  it('incr wraps at 2^64, decr stops at 0, both refuse non-numbers', () => {
    const store = new KvStore();
    store.store('set', 'n', Buffer.from('18446744073709551614'), 5, 0);
    expect(store.delta('n', true, 3n)).to.equal(1n);
    expect(store.get('n')?.flags, 'flags kept').to.equal(5);
    expect(store.delta('n', false, 10n)).to.equal(0n);
    store.store('set', 's', Buffer.from('12a'), 0, 0);
    expect(store.delta('s', true, 1n)).to.equal('non-numeric');
    store.store('set', 'big', Buffer.from('18446744073709551616'), 0, 0); // 2^64: not a u64
    expect(store.delta('big', true, 1n)).to.equal('non-numeric');
    expect(store.delta('missing', true, 1n)).to.equal('not-found');
  });
});

describe('sockets/apps: the KV protocol session', () => {
  it('gives the same replies however the request stream is split (every split point)', () => {
    const script =
      'set k1 0 0 5\r\nhe\r\nl\r\n' + // a value containing \r\n
      'get k1 k2\r\n' +
      'add k1 3 0 1 noreply\r\nx\r\n' +
      'append k1 0 0 2\r\n!!\r\n' +
      'gets k1\r\n' +
      'incr k1 1\r\n' +
      'set n 0 0 2\r\n41\r\nincr n 1\r\ndecr n 100\r\n' +
      'delete k1\r\ndelete k1 noreply\r\nbogus\r\n' +
      'get n\r\n';
    const expected =
      'STORED\r\nVALUE k1 0 5\r\nhe\r\nl\r\nEND\r\n' +
      'STORED\r\nVALUE k1 0 7 2\r\nhe\r\nl!!\r\nEND\r\n' +
      'CLIENT_ERROR cannot increment or decrement non-numeric value\r\n' +
      'STORED\r\n42\r\n0\r\nDELETED\r\nERROR\r\nVALUE n 0 1\r\n0\r\nEND\r\n';
    const bytes = Buffer.from(script, 'latin1');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const h = harness();
      h.feed(bytes.subarray(0, cut));
      h.feed(bytes.subarray(cut));
      expect(h.take(), `split at ${cut}`).to.equal(expected);
    }
    // And one byte at a time.
    const h = harness();
    for (let i = 0; i < bytes.length; i++) h.feed(bytes.subarray(i, i + 1));
    expect(h.take()).to.equal(expected);
  });

  it('answers seeded binary junk with error lines, bounded, and keeps serving', () => {
    const rng = new Prng('kv-junk');
    for (let round = 0; round < 50; round++) {
      const h = harness();
      h.feed('version\r\n'); // not the first byte: 0x80 later is just junk, not the binary protocol
      const junk = Buffer.alloc(1 + rng.nextInt(4000));
      for (let i = 0; i < junk.length; i++) junk[i] = rng.nextInt(256);
      for (let i = 0; i < junk.length;) {
        const n = 1 + rng.nextInt(64);
        h.feed(junk.subarray(i, i + n));
        i += n;
      }
      h.feed('\r\nversion\r\n');
      const reply = h.take();
      expect(h.state.ended, `round ${round}: still open`).to.equal(false);
      const lines = reply.split('\r\n').slice(0, -1);
      expect(lines[0]).to.equal(`VERSION ${KV_PROTOCOL_VERSION}`);
      expect(lines.at(-1)).to.equal(`VERSION ${KV_PROTOCOL_VERSION}`);
      for (const line of lines.slice(1, -1))
        expect(line, `round ${round}`).to.match(/^(ERROR|CLIENT_ERROR .+|SERVER_ERROR .+)$/);
    }
  });

  it('closes on a line longer than the limit, after saying why', () => {
    const h = harness();
    h.feed('get ' + 'k'.repeat(40_000));
    expect(h.state.ended).to.equal(false);
    h.feed('k'.repeat(40_000));
    expect(h.take()).to.equal('CLIENT_ERROR line too long\r\n');
    expect(h.state.ended).to.equal(true);
    h.feed('version\r\n');
    expect(h.take(), 'nothing after the end').to.equal('');
  });

  it('refuses the binary protocol on the first byte', () => {
    const h = harness();
    h.feed(Buffer.from([0x80, 0x00, 0x00, 0x05, 0, 0, 0, 0]));
    expect(h.take()).to.match(/^CLIENT_ERROR the binary protocol is not supported/);
    expect(h.state.ended).to.equal(true);
  });

  it('skips an oversized value without buffering it, and stays in sync', () => {
    const h = harness(new KvStore({ maxItemBytes: 1000 }));
    h.feed('set big 0 0 5000000\r\n');
    for (let i = 0; i < 100; i++) h.feed(Buffer.alloc(50_000, 0x41));
    h.feed('\r\nget big\r\n');
    expect(h.take()).to.equal('SERVER_ERROR object too large for cache\r\nEND\r\n');
    expect(h.store.counters.store_too_large).to.equal(1);
  });

  it('holds what a peer sent of a value, not what it announced', () => {
    const store = new KvStore();
    const before = process.memoryUsage().arrayBuffers;
    const sessions = Array.from({ length: 200 }, () => harness(store));
    // Each announces the largest value allowed and sends one byte of it.
    for (const h of sessions) h.feed(`set k 0 0 ${store.maxItemBytes}\r\nx`);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown, `${grown} bytes for 200 pending 1 MiB values`).to.be.below(20 * 1024 * 1024);
    for (const h of sessions) expect(h.take()).to.equal('');
  });

  it('stops parsing while the peer does not read, resumes when it does, and gives up when it never does', () => {
    const store = new KvStore();
    store.store('set', 'v', Buffer.alloc(100_000, 1), 0, 0);
    const h = harness(store, 250_000);
    h.feed('get v\r\n'.repeat(10));
    // Three replies (300 KB) pass the 250 KB mark: the other seven wait.
    expect(h.session.stalled).to.equal(true);
    expect(h.take().split('END\r\n').length - 1).to.equal(3);
    h.drain();
    h.session.resume();
    expect(h.take().split('END\r\n').length - 1).to.equal(3);
    h.feed('version\r\n'); // arrives while stalled: held, in order
    h.drain();
    h.session.resume();
    h.drain();
    h.session.resume();
    expect(h.session.stalled).to.equal(false);
    const rest = h.take();
    expect(rest.split('END\r\n').length - 1).to.equal(4);
    expect(rest.endsWith(`VERSION ${KV_PROTOCOL_VERSION}\r\n`)).to.equal(true);
    // A peer that never reads cannot park unbounded input here.
    h.feed('get v\r\n'.repeat(10));
    for (let i = 0; i < 100 && !h.state.ended; i++) h.feed(Buffer.alloc(64 * 1024, 0x20));
    expect(h.state.ended).to.equal(true);
    expect(h.take()).to.match(/SERVER_ERROR replies are not being read; closing\r\n$/);
  });
});
