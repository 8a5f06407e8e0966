// The data path honours the port's checksum offload capabilities (DPDK's offload flags): a port
// that fills TCP checksums on transmit gets the pseudo-header sum in the field and fills the
// rest; a port that verifies checksums on receive is trusted, and pre-processing skips its own
// pass. A software "device" around the virtual wire does what such hardware does, so a
// transfer between a stack on it and a stack without offload must still be byte-exact.
import { expect } from 'chai';
import type { NicPort, PortCapabilities } from '../hw/nic-port.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { DelegatingPort } from '../port/delegating-port.js';
import { VirtualNetwork } from '../port/virtual-network.js';
import { ManualClock } from '../util/manual-clock.js';
import { finishChecksum, foldSum, sumWords } from '../wire/checksum.js';
import { bytesIn, connectedPair } from './stack-pair-kit.js';
import { runVirtual } from './virtual-time.js';

const TCP_CHECKSUM = 34 + 16;

const isTcp = (f: PacketBuffer): boolean =>
  f.length >= 54 && f.data.readUInt16BE(12) === 0x0800 && f.data[23] === 6;

/** The unfolded sum of the TCP pseudo-header and segment, checksum field included. */
function tcpSum(f: PacketBuffer): number {
  const b = f.data;
  const tcpLength = b.readUInt16BE(16) - 20;
  return sumWords(b, 26, 34, 6 + tcpLength) + sumWords(b, 34, 34 + tcpLength, 0);
}

/** A NIC with checksum offload, in software: fills on transmit, verifies (and drops) on receive. */
class OffloadingPort extends DelegatingPort {
  private readonly caps: PortCapabilities;
  /** Frames whose transmit checksum field held the pseudo-header sum (the offload contract). */
  pseudoHeaderFields = 0;
  /** Received frames whose checksum the "device" verified before the data path saw them. */
  verified = 0;

  constructor(inner: NicPort) {
    super(inner);
    this.caps = { ...inner.capabilities, rxChecksumOffload: true, txChecksumOffload: true };
  }
  override get capabilities(): PortCapabilities {
    return this.caps;
  }

  override rxBurst(bufs: PacketBuffer[], max: number): number {
    const n = this.inner.rxBurst(bufs, max);
    for (let i = 0; i < n; i++) {
      const f = bufs[i]!;
      if (!isTcp(f)) continue;
      if (finishChecksum(tcpSum(f)) !== 0) throw new Error('the wire delivered a bad TCP checksum');
      this.verified++;
      // Verified by the device: the field is not looked at again, so a wrong value must not
      // matter (this proves pre-processing skipped its own pass).
      f.data[TCP_CHECKSUM] ^= 0xff;
    }
    return n;
  }

  override txBurst(bufs: PacketBuffer[], count: number): number {
    for (let i = 0; i < count; i++) {
      const f = bufs[i]!;
      if (!isTcp(f)) continue;
      const b = f.data;
      const stored = b.readUInt16BE(TCP_CHECKSUM);
      b.writeUInt16BE(0, TCP_CHECKSUM);
      const pseudo = sumWords(b, 26, 34, 6 + b.readUInt16BE(16) - 20);
      if (stored === foldSum(pseudo)) this.pseudoHeaderFields++;
      b.writeUInt16BE(finishChecksum(tcpSum(f)), TCP_CHECKSUM);
    }
    return this.inner.txBurst(bufs, count);
  }
}

describe('runtime/checksum offload (port capabilities)', () => {
  it('moves data byte-exact both ways between a stack on an offloading port and one without', () => {
    const clock = new ManualClock();
    const net = new VirtualNetwork({ clock, timers: clock });
    const offloading = new OffloadingPort(net.attach());
    const { a, b, server, client, got } = connectedPair(clock, offloading, net.attach());
    const up = Buffer.alloc(200_000);
    const down = Buffer.alloc(150_000);
    for (let i = 0; i < up.length; i++) up[i] = (i * 7 + (i >>> 9)) & 0xff;
    for (let i = 0; i < down.length; i++) down[i] = (i * 13 + 1) & 0xff;
    let upSent = 0;
    let downSent = 0;
    const done = (): boolean => {
      if (upSent < up.length) upSent += client.write(up, upSent);
      if (downSent < down.length) downSent += server.write(down, downSent);
      return bytesIn(got.a) === up.length && bytesIn(got.b) === down.length;
    };
    expect(runVirtual([a, b], clock, done, 60e9)).to.equal(true);
    expect(Buffer.concat(got.a).equals(up)).to.equal(true);
    expect(Buffer.concat(got.b).equals(down)).to.equal(true);
    // The offloading side never verified a checksum itself, and built its segments for the port.
    const stats = a.stats().dataPath;
    expect(stats.pre.malformed).to.deep.equal({});
    expect(offloading.verified).to.be.greaterThan(50);
    expect(offloading.pseudoHeaderFields).to.be.greaterThan(50);
    expect(b.stats().dataPath.pre.malformed).to.deep.equal({});
    a.close();
    b.close();
  });
});
