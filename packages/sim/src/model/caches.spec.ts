import { expect } from 'chai';
import { CamLruCache, DirectMappedCache, SetAssocLruCache } from './caches.js';

describe('cache models', () => {
  it('CAM: fully associative, evicts the least recently used (the NFP LM CAM, 16 entries)', () => {
    const c = new CamLruCache(16);
    for (let f = 0; f < 16; f++) expect(c.lookup(f)).to.equal(false);
    expect(c.lookup(0)).to.equal(true); // 0 is now the most recent
    expect(c.lookup(16)).to.equal(false); // evicts 1, the least recent
    expect(c.lookup(0)).to.equal(true);
    expect(c.lookup(1)).to.equal(false);
    expect([c.hits, c.misses]).to.deep.equal([2, 18]);
  });

  it('direct-mapped by key: flows 512 apart share a slot (FlexTOE CLS cache, flow_id & 511)', () => {
    const c = new DirectMappedCache(512, false);
    expect(c.lookup(5)).to.equal(false);
    expect(c.lookup(5)).to.equal(true);
    expect(c.lookup(517)).to.equal(false); // same slot: evicts 5
    expect(c.lookup(5)).to.equal(false);
    expect(c.lookup(6)).to.equal(false);
    expect(c.lookup(6)).to.equal(true);
  });

  it('direct-mapped by hash: 128 flows in 128 entries collide (indexed by key they would not)', () => {
    const hits = (c: DirectMappedCache): number => {
      for (let f = 0; f < 128; f++) c.lookup(f);
      let n = 0;
      for (let f = 0; f < 128; f++) if (c.lookup(f)) n++;
      return n;
    };
    expect(hits(new DirectMappedCache(128, false))).to.equal(128);
    // Hashed slots: flows that share one evict each other on every pass.
    expect(hits(new DirectMappedCache(128, true))).to.be.within(20, 100);
  });

  it('set-associative LRU: a set holds `ways` lines, an unrelated set is untouched', () => {
    const c = new SetAssocLruCache(8, 2); // 4 sets of 2 ways
    expect(c.lookup(0)).to.equal(false);
    expect(c.lookup(4)).to.equal(false); // same set (line % 4)
    expect(c.lookup(0)).to.equal(true);
    expect(c.lookup(8)).to.equal(false); // evicts 4 (least recent in set 0)
    expect(c.lookup(0)).to.equal(true);
    expect(c.lookup(4)).to.equal(false);
    expect(c.lookup(1)).to.equal(false);
    expect(() => new SetAssocLruCache(12, 4)).to.throw(RangeError);
  });
});
