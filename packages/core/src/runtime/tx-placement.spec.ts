// The data path places each data segment's frame 0..7 bytes into its transmit slot so the payload
// has the same address modulo 8 as its bytes in the host TX ring (8-byte DMA copies): odd
// shifts only when the port fills the TCP checksums (the software payload sum needs an even
// start). Writes of odd sizes put the ring positions at every residue; the transfer must stay
// byte-exact both ways, and the frames must really have left from several placements.
import { expect } from 'chai';
import type { NicPort, PortCapabilities } from '../hw/nic-port.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { DelegatingPort } from '../port/delegating-port.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import { finishChecksum, sumWords } from '../wire/checksum.js';
import { bytesIn, connectedPair } from './stack-pair-kit.js';
import { runVirtual } from './virtual-time.js';

const TCP_CHECKSUM = 34 + 16;

/** A port that records where each transmitted data frame starts (modulo 8) and can offload. */
class PlacementPort extends DelegatingPort {
  private readonly caps: PortCapabilities;
  /** Residues modulo 8 of the byte offsets data frames left from. */
  readonly placements = new Set<number>();

  constructor(
    inner: NicPort,
    private readonly offload: boolean,
  ) {
    super(inner);
    this.caps = { ...inner.capabilities, txChecksumOffload: offload };
  }
  override get capabilities(): PortCapabilities {
    return this.caps;
  }

  override txBurst(bufs: PacketBuffer[], count: number): number {
    for (let i = 0; i < count; i++) {
      const f = bufs[i]!;
      const b = f.data;
      if (f.length < 54 || b.readUInt16BE(12) !== 0x0800 || b[23] !== 6) continue;
      const tcpLength = b.readUInt16BE(16) - 20;
      const headerLength = (b[34 + 12]! >>> 4) * 4;
      if (tcpLength > headerLength) this.placements.add(b.byteOffset & 7);
      if (this.offload) {
        // The device's job: the field holds the pseudo-header sum; fill the real checksum.
        b.writeUInt16BE(0, TCP_CHECKSUM);
        const sum = sumWords(b, 26, 34, 6 + tcpLength) + sumWords(b, 34, 34 + tcpLength, 0);
        b.writeUInt16BE(finishChecksum(sum), TCP_CHECKSUM);
      }
    }
    return this.inner.txBurst(bufs, count);
  }
}

describe('runtime/data path transmit frame placement', () => {
  for (const offload of [false, true]) {
    it(`moves odd-sized writes byte-exact both ways from every ring position (TX checksum offload ${offload})`, () => {
      const clock = new ManualClock();
      const net = new VirtualNetwork({ clock, timers: clock });
      const portA = new PlacementPort(net.attach(), offload);
      const portB = new PlacementPort(net.attach(), false);
      const { a, b, server, client, got } = connectedPair(clock, portA, portB);
      const up = Buffer.alloc(120_000);
      const down = Buffer.alloc(90_000);
      for (let i = 0; i < up.length; i++) up[i] = (i * 7 + (i >>> 9)) & 0xff;
      for (let i = 0; i < down.length; i++) down[i] = (i * 13 + 1) & 0xff;
      // Chunks of 1, 4, 7, ... 1449 B, odd and even: the TX ring positions take every residue.
      let upSent = 0;
      let downSent = 0;
      const sizes = { up: 0, down: 0 };
      const chunk = (side: 'up' | 'down'): number => 1 + ((sizes[side]++ * 3) % 1449);
      const done = (): boolean => {
        if (upSent < up.length)
          upSent += client.write(up.subarray(upSent, Math.min(up.length, upSent + chunk('up'))));
        if (downSent < down.length)
          downSent += server.write(down.subarray(downSent, Math.min(down.length, downSent + chunk('down'))));
        return bytesIn(got.a) === up.length && bytesIn(got.b) === down.length;
      };
      expect(runVirtual([a, b], clock, done, 60e9)).to.equal(true);
      expect(Buffer.concat(got.a).equals(up)).to.equal(true);
      expect(Buffer.concat(got.b).equals(down)).to.equal(true);
      expect(a.stats().dataPath.pre.malformed).to.deep.equal({});
      expect(b.stats().dataPath.pre.malformed).to.deep.equal({});
      // Software checksums: even shifts only (frames start 2 bytes past a word: residues 2, 4,
      // 6, 0); offload: odd shifts too.
      expect([...portB.placements].every((r) => r % 2 === 0)).to.equal(true);
      expect(portB.placements.size).to.be.greaterThan(1);
      if (offload) expect([...portA.placements].some((r) => r % 2 === 1)).to.equal(true);
      a.close();
      b.close();
    });
  }
});
