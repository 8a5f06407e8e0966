import { expect } from 'chai';
import { AccessLog } from './memory-tiers.js';

describe('AccessLog', () => {
  const reading = (log: AccessLog): number[][] => {
    const seen: number[][] = [];
    log.reader = {
      readAccesses: (entries, count) => {
        for (let i = 0; i < count; i++) seen.push([...entries.subarray(4 * i, 4 * i + 4)]);
      },
    };
    return seen;
  };

  it('hands the accesses to its reader in the order they were made, once', () => {
    const log = new AccessLog();
    const seen = reading(log);
    log.add(3, 7, 64, true);
    log.add(1, -1, 48, false);
    log.flush();
    log.flush();
    expect(seen).to.deep.equal([
      [3, 7, 64, 1],
      [1, -1, 48, 0],
    ]);
    expect(log.count).to.equal(0);
  });

  it('flushes by itself when full, before the access that did not fit', () => {
    const log = new AccessLog();
    const seen = reading(log);
    const capacity = log.entries.length / 4;
    for (let i = 0; i <= capacity; i++) log.add(0, i, 4, false);
    expect(seen.map((e) => e[1])).to.deep.equal(Array.from({ length: capacity }, (_, i) => i));
    expect(log.count).to.equal(1);
  });

  it('drops what it holds when nothing reads it', () => {
    const log = new AccessLog();
    log.add(0, 1, 4, false);
    log.flush();
    expect(log.count).to.equal(0);
  });
});
