import { expect } from 'chai';
import fc from 'fast-check';
import { FlowTable, hash4, MAX_FLOW_ID } from './flow-table.js';

/** Bit-at-a-time CRC-32C over bytes: the reference `hash4` must agree with. */
function crc32cRef(bytes: number[]): number {
  let crc = 0xffff_ffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f6_3b78 : crc >>> 1;
  }
  return (crc ^ 0xffff_ffff) >>> 0;
}

const be = (v: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => (v >>> ((n - 1 - i) * 8)) & 0xff);

function table(capacity: number, maxLoad?: number): FlowTable {
  const buf = new ArrayBuffer(FlowTable.bytesFor(capacity) + 64);
  return new FlowTable(buf, 64, capacity, maxLoad === undefined ? undefined : { maxLoad });
}

describe('hash4 (CRC-32C of the 4-tuple)', () => {
  it('is standard CRC-32C (check value of "123456789" is 0xE3069283, RFC 3720 B.4)', () => {
    expect(crc32cRef([...'123456789'].map((ch) => ch.charCodeAt(0)))).to.equal(0xe306_9283);
  });

  it('equals CRC-32C of localIp, remoteIp, localPort, remotePort in network byte order', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffff_ffff }),
        fc.nat({ max: 0xffff_ffff }),
        fc.nat({ max: 0xffff }),
        fc.nat({ max: 0xffff }),
        (a, b, p, q) => {
          expect(hash4(a, b, p, q)).to.equal(crc32cRef([...be(a, 4), ...be(b, 4), ...be(p, 2), ...be(q, 2)]));
        },
      ),
    );
  });

  it('spreads sequential client ports evenly over 4 flow groups', () => {
    const groups = [0, 0, 0, 0];
    for (let port = 10000; port < 14000; port++) groups[hash4(0x0a000001, 0x0a000002, 80, port) % 4]!++;
    for (const g of groups) expect(g).to.be.within(900, 1100);
  });
});

describe('FlowTable', () => {
  it('inserts, looks up and removes one flow, reporting the hash via lastHash', () => {
    const t = table(16);
    expect(t.lookup(1, 2, 3, 4)).to.equal(-1);
    expect(t.insert(1, 2, 3, 4, 77)).to.equal(true);
    expect(t.lookup(1, 2, 3, 4)).to.equal(77);
    expect(t.lastHash).to.equal(hash4(1, 2, 3, 4));
    expect(t.lookup(1, 2, 4, 3)).to.equal(-1); // ports are ordered: local, remote
    expect(t.size).to.equal(1);
    expect(t.remove(1, 2, 3, 4)).to.equal(true);
    expect(t.remove(1, 2, 3, 4)).to.equal(false);
    expect(t.size).to.equal(0);
    expect(t.counters).to.include({ inserts: 1, removes: 1, hits: 1, removeMiss: 1 });
  });

  it('keeps flow ids 0 and MAX_FLOW_ID and full-range addresses apart from the empty marker', () => {
    const t = table(8);
    expect(t.insert(0, 0, 0, 0, 0)).to.equal(true);
    expect(t.insert(0xffff_ffff, 0xffff_ffff, 0xffff, 0xffff, MAX_FLOW_ID)).to.equal(true);
    expect(t.lookup(0, 0, 0, 0)).to.equal(0);
    expect(t.lookup(0xffff_ffff, 0xffff_ffff, 0xffff, 0xffff)).to.equal(MAX_FLOW_ID);
    expect(t.insert(5, 5, 5, 5, MAX_FLOW_ID + 1)).to.equal(false);
    expect(t.insert(5, 5, 5, 5, -1)).to.equal(false);
    expect(t.counters.invalidFlowId).to.equal(2);
  });

  it('refuses a duplicate 4-tuple and keeps the first mapping', () => {
    const t = table(8);
    t.insert(1, 2, 3, 4, 10);
    expect(t.insert(1, 2, 3, 4, 11)).to.equal(false);
    expect(t.lookup(1, 2, 3, 4)).to.equal(10);
    expect(t.counters.duplicate).to.equal(1);
  });

  it('stops at 50% load with a counted table-full, and accepts again after a remove', () => {
    const t = table(16);
    expect(t.maxEntries).to.equal(8);
    for (let i = 0; i < 8; i++) expect(t.insert(i, 0, 0, 0, i)).to.equal(true);
    expect(t.insert(100, 0, 0, 0, 100)).to.equal(false);
    expect(t.counters.tableFull).to.equal(1);
    expect(t.insert(3, 0, 0, 0, 9)).to.equal(false); // an installed tuple is a duplicate, not "full"
    expect(t.counters.duplicate).to.equal(1);
    t.remove(0, 0, 0, 0);
    expect(t.insert(100, 0, 0, 0, 100)).to.equal(true);
  });

  it('honours maxLoad but always keeps one slot empty', () => {
    expect(table(16, 0.9).maxEntries).to.equal(14);
    expect(table(2, 0.9).maxEntries).to.equal(1);
    expect(() => table(16, 0.95)).to.throw(RangeError);
    expect(() => table(12)).to.throw(RangeError, /power of two/);
    expect(() => new FlowTable(new ArrayBuffer(64), 0, 16)).to.throw(RangeError, /needs 272 bytes/);
  });

  it('shares its contents with a view attached to the same SharedArrayBuffer', () => {
    const buf = new SharedArrayBuffer(FlowTable.bytesFor(64) + 64);
    const t = new FlowTable(buf, 64, 64);
    t.insert(0x0a000001, 0x0a000002, 80, 5555, 42);
    const view = FlowTable.attach(buf, 64);
    expect(view.lookup(0x0a000001, 0x0a000002, 80, 5555)).to.equal(42);
    expect(view.size).to.equal(1);
    expect(view.maxEntries).to.equal(32);
    view.remove(0x0a000001, 0x0a000002, 80, 5555);
    expect(t.size).to.equal(0);
    expect(() => FlowTable.attach(buf, 0)).to.throw(RangeError, /no table/);
  });

  it('never answers from the remembered last lookup once the table changed, also through another view', () => {
    const buf = new SharedArrayBuffer(FlowTable.bytesFor(8));
    const t = new FlowTable(buf, 0, 8);
    t.insert(0x0a000001, 0x0a000002, 80, 5555, 1);
    expect(t.lookup(0x0a000001, 0x0a000002, 80, 5555)).to.equal(1);
    const view = FlowTable.attach(buf, 0);
    view.remove(0x0a000001, 0x0a000002, 80, 5555);
    expect(t.lookup(0x0a000001, 0x0a000002, 80, 5555)).to.equal(-1);
    view.insert(0x0a000001, 0x0a000002, 80, 5555, 7);
    expect(t.lookup(0x0a000001, 0x0a000002, 80, 5555)).to.equal(7);
    expect(t.lookup(0x0a000001, 0x0a000002, 80, 5555)).to.equal(7);
  });

  it('matches a Map under random insert/lookup/remove sequences (small tables force long runs and wrap)', () => {
    // Few distinct values per field so sequences revisit keys; tiny capacities so probe runs
    // collide, wrap past the last slot and exercise backward shift on every remove.
    const key = fc.tuple(
      fc.constantFrom(0, 1, 0xffff_ffff),
      fc.constantFrom(7, 0x8000_0000),
      fc.nat({ max: 5 }),
      fc.constantFrom(80, 443, 65535),
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), key, id: fc.nat({ max: 1000 }) }),
      fc.record({ kind: fc.constant('lookup' as const), key }),
      fc.record({ kind: fc.constant('remove' as const), key }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(4, 8, 16, 32),
        fc.constantFrom(0.5, 0.75, 0.9),
        fc.array(op, { maxLength: 300 }),
        (cap, load, ops) => {
          const t = table(cap, load);
          const model = new Map<string, number>();
          for (const o of ops) {
            const [a, b, p, q] = o.key;
            const k = o.key.join(',');
            if (o.kind === 'insert') {
              const expected = !model.has(k) && model.size < t.maxEntries;
              expect(t.insert(a, b, p, q, o.id)).to.equal(expected);
              if (expected) model.set(k, o.id);
            } else if (o.kind === 'lookup') {
              expect(t.lookup(a, b, p, q)).to.equal(model.get(k) ?? -1);
              expect(t.lastHash).to.equal(hash4(a, b, p, q)); // also when the last tuple was remembered
            } else {
              expect(t.remove(a, b, p, q)).to.equal(model.delete(k));
            }
            expect(t.size).to.equal(model.size);
          }
          for (const [k, id] of model) {
            const [a, b, p, q] = k.split(',').map(Number) as [number, number, number, number];
            expect(t.lookup(a, b, p, q)).to.equal(id);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds 16384 flows (FlexTOE maximum) at 50% load with short probe runs', () => {
    const t = table(32768);
    for (let i = 0; i < 16384; i++)
      expect(t.insert(0x0a000001, 0x0a000000 + (i >>> 8), 80, 1024 + i, i)).to.equal(true);
    for (let i = 0; i < 16384; i++)
      expect(t.lookup(0x0a000001, 0x0a000000 + (i >>> 8), 80, 1024 + i)).to.equal(i);
    for (let i = 0; i < 16384; i += 2) t.remove(0x0a000001, 0x0a000000 + (i >>> 8), 80, 1024 + i);
    for (let i = 0; i < 16384; i++) {
      expect(t.lookup(0x0a000001, 0x0a000000 + (i >>> 8), 80, 1024 + i)).to.equal(i % 2 ? i : -1);
    }
    expect(t.counters.maxProbe).to.be.below(64);
  });
});
