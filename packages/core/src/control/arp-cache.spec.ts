import { expect } from 'chai';
import fc from 'fast-check';
import { ArpCache, ArpState } from './arp-cache.js';

const S = 1e9; // ns per second
const ip = (a: number, b: number, c: number, d: number): number =>
  ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const PEER = ip(10, 0, 0, 2);
const MAC = 0x02_00_00_00_00_02; // locally administered unicast
const MAC2 = 0x02_00_00_00_00_99;

describe('ArpCache', () => {
  describe('REACHABLE entries', () => {
    it('answers a lookup with the MAC after an update, and -1 before', () => {
      const arp = new ArpCache();
      expect(arp.lookup(PEER, 0)).to.equal(-1);
      expect(arp.update(PEER, MAC, 0)).to.equal(true);
      expect(arp.lookup(PEER, 1)).to.equal(MAC);
      expect(arp.state(PEER, 1)).to.equal(ArpState.Reachable);
      expect(arp.counters).to.include({ hits: 1, misses: 1, updates: 1 });
    });

    it('expires 60 s after the last update by default (RFC 1122 2.3.2.1 timeout)', () => {
      const arp = new ArpCache();
      arp.update(PEER, MAC, 0);
      expect(arp.lookup(PEER, 60 * S - 1)).to.equal(MAC);
      expect(arp.lookup(PEER, 60 * S)).to.equal(-1);
      expect(arp.counters.expired).to.equal(1);
      expect(arp.size).to.equal(0);
    });

    it('restarts the lifetime on update and on upper-layer confirmation', () => {
      const arp = new ArpCache({ expiryNs: 10 * S });
      arp.update(PEER, MAC, 0);
      arp.update(PEER, MAC2, 8 * S); // a newer address replaces the old one
      expect(arp.confirm(PEER, 15 * S)).to.equal(true);
      expect(arp.lookup(PEER, 24 * S)).to.equal(MAC2);
      expect(arp.lookup(PEER, 25 * S)).to.equal(-1);
      expect(arp.confirm(PEER, 26 * S)).to.equal(false);
    });

    it('refuses addresses that must not be cached', () => {
      const arp = new ArpCache();
      expect(arp.update(0, MAC, 0)).to.equal(false); // RFC 5227 probe sender
      expect(arp.update(0xffff_ffff, MAC, 0)).to.equal(false);
      expect(arp.update(ip(224, 0, 0, 1), MAC, 0)).to.equal(false);
      expect(arp.update(PEER, 0xff_ff_ff_ff_ff_ff, 0)).to.equal(false); // broadcast MAC
      expect(arp.update(PEER, 0x01_00_5e_00_00_01, 0)).to.equal(false); // multicast MAC
      expect(arp.update(PEER, 2 ** 48, 0)).to.equal(false);
      expect(arp.update(PEER, -1, 0)).to.equal(false);
      expect(arp.counters.invalid).to.equal(7);
      expect(arp.size).to.equal(0);
    });
  });

  describe('RFC 826 merge', () => {
    it('adds the sender only when we are the target', () => {
      const arp = new ArpCache();
      expect(arp.merge(PEER, MAC, false, 0)).to.equal(false);
      expect(arp.lookup(PEER, 0)).to.equal(-1);
      expect(arp.merge(PEER, MAC, true, 0)).to.equal(true);
      expect(arp.lookup(PEER, 0)).to.equal(MAC);
    });

    it('updates a known sender even when the packet is for someone else', () => {
      const arp = new ArpCache();
      arp.update(PEER, MAC, 0);
      expect(arp.merge(PEER, MAC2, false, 1)).to.equal(true);
      expect(arp.lookup(PEER, 1)).to.equal(MAC2);
    });

    it('resolves an INCOMPLETE entry from any ARP packet of that sender', () => {
      const arp = new ArpCache();
      arp.markPending(PEER, 0);
      expect(arp.merge(PEER, MAC, false, 1)).to.equal(true);
      expect(arp.lookup(PEER, 1)).to.equal(MAC);
      expect(arp.pending).to.equal(0);
      expect(arp.counters.resolved).to.equal(1);
    });
  });

  describe('INCOMPLETE entries and the request rate (RFC 1122 2.3.2.1)', () => {
    it('says "send a request" for a new address, then at most once per second', () => {
      const arp = new ArpCache();
      expect(arp.markPending(PEER, 0)).to.equal(true);
      expect(arp.state(PEER, 0)).to.equal(ArpState.Incomplete);
      expect(arp.lookup(PEER, 0)).to.equal(-1);
      expect(arp.markPending(PEER, 0.5 * S)).to.equal(false);
      expect(arp.markPending(PEER, S - 1)).to.equal(false);
      expect(arp.markPending(PEER, S)).to.equal(true);
      expect(arp.markPending(PEER, 1.5 * S)).to.equal(false);
      expect(arp.counters).to.include({ requests: 2, rateLimited: 3 });
    });

    it('needs no request for a REACHABLE address, but does after it expires', () => {
      const arp = new ArpCache({ expiryNs: 10 * S });
      arp.update(PEER, MAC, 0);
      expect(arp.markPending(PEER, 5 * S)).to.equal(false);
      expect(arp.markPending(PEER, 10 * S)).to.equal(true);
      expect(arp.state(PEER, 10 * S)).to.equal(ArpState.Incomplete);
    });

    it('lists the pending addresses due for another request, one per second each', () => {
      const arp = new ArpCache();
      const a = ip(10, 0, 0, 3);
      const b = ip(10, 0, 0, 4);
      arp.markPending(a, 0);
      arp.markPending(b, 0.5 * S);
      const out = new Uint32Array(8);
      expect(arp.dueRequests(0.9 * S, out)).to.equal(0);
      expect(arp.dueRequests(1.0 * S, out)).to.equal(1);
      expect(out[0]).to.equal(a);
      expect(arp.dueRequests(1.5 * S, out)).to.equal(1);
      expect(out[0]).to.equal(b);
      expect(arp.dueRequests(1.6 * S, out)).to.equal(0);
    });

    it('gives up a resolution 3 s after its first request by default', () => {
      const arp = new ArpCache();
      arp.markPending(PEER, 0);
      const out = new Uint32Array(4);
      expect(arp.dueRequests(2 * S, out)).to.equal(1);
      expect(arp.dueRequests(3 * S, out)).to.equal(0);
      expect(arp.state(PEER, 3 * S)).to.equal(ArpState.None);
      expect(arp.counters.unresolved).to.equal(1);
      expect(arp.markPending(PEER, 3 * S)).to.equal(true); // a later need starts afresh
    });

    it('gives up only when a new request would be allowed, so starting afresh keeps the rate', () => {
      const arp = new ArpCache();
      arp.markPending(PEER, 0);
      expect(arp.markPending(PEER, 1.9 * S)).to.equal(true);
      expect(arp.markPending(PEER, 2.9 * S)).to.equal(true);
      expect(arp.tick(3 * S)).to.equal(0); // 3 s old, but the last request is 0.1 s old
      expect(arp.markPending(PEER, 3 * S)).to.equal(false);
      expect(arp.tick(3.9 * S)).to.equal(1);
      expect(arp.markPending(PEER, 3.9 * S)).to.equal(true);
    });

    it('keeps the rate when an expired entry is re-resolved soon after it was resolved', () => {
      const arp = new ArpCache({ expiryNs: 0.5 * S });
      expect(arp.markPending(PEER, 0)).to.equal(true);
      arp.update(PEER, MAC, 0.1 * S);
      expect(arp.markPending(PEER, 0.6 * S)).to.equal(false); // expired, but asked 0.6 s ago
      expect(arp.state(PEER, 0.6 * S)).to.equal(ArpState.Incomplete);
      const out = new Uint32Array(1);
      expect(arp.dueRequests(S, out)).to.equal(1);
    });

    it('bounds outstanding resolutions with a counted pendingFull', () => {
      const arp = new ArpCache({ maxPending: 2 });
      expect(arp.markPending(ip(10, 0, 0, 10), 0)).to.equal(true);
      expect(arp.markPending(ip(10, 0, 0, 11), 0)).to.equal(true);
      expect(arp.markPending(ip(10, 0, 0, 12), 0)).to.equal(false);
      expect(arp.counters.pendingFull).to.equal(1);
      arp.update(ip(10, 0, 0, 10), MAC, 1);
      expect(arp.markPending(ip(10, 0, 0, 12), 1)).to.equal(true);
    });
  });

  describe('bounds', () => {
    it('evicts the REACHABLE entry updated longest ago when full', () => {
      const arp = new ArpCache({ maxEntries: 3 });
      arp.update(ip(10, 0, 0, 1), MAC, 3);
      arp.update(ip(10, 0, 0, 2), MAC, 1);
      arp.update(ip(10, 0, 0, 3), MAC, 2);
      expect(arp.update(ip(10, 0, 0, 4), MAC2, 4)).to.equal(true);
      expect(arp.size).to.equal(3);
      expect(arp.lookup(ip(10, 0, 0, 2), 4)).to.equal(-1);
      expect(arp.lookup(ip(10, 0, 0, 4), 4)).to.equal(MAC2);
      expect(arp.counters.evicted).to.equal(1);
    });

    it('prefers an expired entry and never evicts an INCOMPLETE one', () => {
      const arp = new ArpCache({ maxEntries: 2, expiryNs: 10 * S });
      arp.markPending(ip(10, 0, 0, 1), 0);
      arp.update(ip(10, 0, 0, 2), MAC, 0);
      expect(arp.update(ip(10, 0, 0, 3), MAC, 11 * S)).to.equal(true); // the expired .2 goes
      expect(arp.counters).to.include({ evicted: 0, expired: 1 });
      const full = new ArpCache({ maxEntries: 2 });
      full.markPending(ip(10, 0, 0, 1), 0);
      full.markPending(ip(10, 0, 0, 2), 0);
      expect(full.update(ip(10, 0, 0, 3), MAC, 0)).to.equal(false);
      expect(full.counters.tableFull).to.equal(1);
    });

    it('tick sweeps expired and timed-out entries', () => {
      const arp = new ArpCache({ expiryNs: 10 * S });
      arp.update(ip(10, 0, 0, 1), MAC, 0);
      arp.update(ip(10, 0, 0, 2), MAC, 5 * S);
      arp.markPending(ip(10, 0, 0, 3), 0);
      expect(arp.tick(10 * S)).to.equal(2);
      expect(arp.size).to.equal(1);
      expect(arp.pending).to.equal(0);
    });

    it('keeps its bounds and agrees with a simple model under random operations', () => {
      const addr = fc.integer({ min: 1, max: 12 }).map((d) => ip(10, 0, 0, d));
      const op = fc.oneof(
        fc.record({
          k: fc.constant('update' as const),
          ip: addr,
          mac: fc.integer({ min: 1, max: 5 }).map((m) => MAC + m * 2),
        }),
        fc.record({ k: fc.constant('pending' as const), ip: addr }),
        fc.record({ k: fc.constant('lookup' as const), ip: addr }),
        fc.record({ k: fc.constant('due' as const) }),
        fc.record({ k: fc.constant('time' as const), dt: fc.integer({ min: 0, max: 4 * S }) }),
      );
      fc.assert(
        fc.property(fc.boolean(), fc.array(op, { maxLength: 200 }), (small, ops) => {
          // A small table evicts (and eviction forgets when an address was last asked for);
          // a large one holds all 12 addresses, so the rate rule can be checked strictly.
          const maxEntries = small ? 6 : 16;
          const arp = new ArpCache({ maxEntries, maxPending: 3, expiryNs: 8 * S });
          let now = 0;
          const lastAsk = new Map<number, number>(); // requests sent per address
          const out = new Uint32Array(16);
          for (const o of ops) {
            if (o.k === 'time') now += o.dt;
            else if (o.k === 'update') {
              if (arp.update(o.ip, o.mac, now)) expect(arp.lookup(o.ip, now)).to.equal(o.mac);
            } else if (o.k === 'lookup') {
              const m = arp.lookup(o.ip, now);
              if (m >= 0) expect(arp.state(o.ip, now)).to.equal(ArpState.Reachable);
            } else {
              const asked =
                o.k === 'pending'
                  ? arp.markPending(o.ip, now)
                    ? [o.ip]
                    : []
                  : [...out.subarray(0, arp.dueRequests(now, out))];
              for (const a of asked) {
                const prev = lastAsk.get(a);
                // RFC 1122 2.3.2.1: at most one request per second per destination
                if (prev !== undefined && !small) expect(now - prev).to.be.at.least(S);
                lastAsk.set(a, now);
              }
            }
            expect(arp.size).to.be.at.most(maxEntries);
            expect(arp.pending).to.be.at.most(3);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
