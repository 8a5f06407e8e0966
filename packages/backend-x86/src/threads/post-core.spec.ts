import { expect } from 'chai';
import { parseFrame, ParsedFrame, WireError } from '@flextoe/core';
import { fillTcpChecksum } from './post-core.js';

/** An Ethernet/IPv4/TCP frame with `payload` bytes and the TCP checksum field set to `field`. */
function tcpFrame(payload: number, field: number): Uint8Array {
  const tcpLength = 20 + payload;
  const b = new Uint8Array(new SharedArrayBuffer(2048), 8, 14 + 20 + tcpLength);
  b.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00]);
  b.set([0x45, 0, (20 + tcpLength) >> 8, (20 + tcpLength) & 0xff, 0, 1, 0x40, 0, 64, 6, 0, 0], 14);
  b.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b[24] = ~sum >> 8;
  b[25] = ~sum & 0xff;
  b.set([0x1f, 0x90, 0xc0, 0x01, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x18, 0xff, 0xff], 34);
  b[50] = field >> 8;
  b[51] = field & 0xff;
  for (let i = 0; i < payload; i++) b[54 + i] = (i * 7 + 3) & 0xff;
  return b;
}

describe('post-processing replica: filling the TCP checksum', () => {
  it("writes a checksum core's checked parser accepts, whatever the field held (pseudo sum or junk)", () => {
    for (const payload of [0, 1, 1447, 1448])
      for (const field of [0, 0x1234, 0xffff]) {
        const b = tcpFrame(payload, field);
        const words = new Int32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
        const p = new ParsedFrame();
        expect(fillTcpChecksum(words, b, b.length)).to.equal(true);
        expect(parseFrame(b, 0, b.length, p), `payload ${payload}, field ${field}`).to.equal(WireError.None);
      }
  });

  it('leaves frames that are not IPv4/TCP, or truncated, untouched', () => {
    const b = tcpFrame(100, 0x1234);
    const words = new Int32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
    const copy = b.slice();
    expect(fillTcpChecksum(words, b, b.length - 1), 'IPv4 length beyond the frame').to.equal(false);
    b[23] = 17; // UDP
    expect(fillTcpChecksum(words, b, b.length)).to.equal(false);
    b[23] = 6;
    expect([...b]).to.deep.equal([...copy]);
    b[12] = 0x08;
    b[13] = 0x06; // ARP
    expect(fillTcpChecksum(words, b, b.length)).to.equal(false);
    expect([...b.subarray(14)]).to.deep.equal([...copy.subarray(14)]);
  });
});
