import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../util/manual-clock.js';
import { CapturingPort } from './capturing-port.js';
import {
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_MAGIC_MICROSECONDS,
  PCAP_MAGIC_NANOSECONDS,
  PCAP_RECORD_HEADER_BYTES,
  PcapWriter,
} from './pcap-writer.js';
import { buffers, drainFrames, tcpFrame, testFrame } from './spec-support.js';
import { TracingPort, type FrameDirection } from './tracing-port.js';
import { VirtualNetwork } from './virtual-network.js';

interface PcapRecord {
  seconds: number;
  fraction: number;
  stored: number;
  original: number;
  bytes: Buffer;
}

/** Reads a little-endian classic pcap file the simple way, independently of the writer. */
function readPcap(file: Buffer): { header: Record<string, number>; records: PcapRecord[] } {
  const header = {
    magic: file.readUInt32LE(0),
    major: file.readUInt16LE(4),
    minor: file.readUInt16LE(6),
    thiszone: file.readInt32LE(8),
    sigfigs: file.readUInt32LE(12),
    snaplen: file.readUInt32LE(16),
    linktype: file.readUInt32LE(20),
  };
  const records: PcapRecord[] = [];
  for (let o = PCAP_GLOBAL_HEADER_BYTES; o < file.length;) {
    const stored = file.readUInt32LE(o + 8);
    records.push({
      seconds: file.readUInt32LE(o),
      fraction: file.readUInt32LE(o + 4),
      stored,
      original: file.readUInt32LE(o + 12),
      bytes: file.subarray(o + PCAP_RECORD_HEADER_BYTES, o + PCAP_RECORD_HEADER_BYTES + stored),
    });
    o += PCAP_RECORD_HEADER_BYTES + stored;
  }
  return { header, records };
}

/** 2023-11-14T22:13:20.123456789Z */
const EPOCH = 1_700_000_000_123_456_789n;

describe('CapturingPort', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flextoe-pcap-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** a -> b and b -> a through a capture on b; returns the frames in wire order. */
  function exchange(path: string, opts: { precision?: 'ns' | 'us' } = {}) {
    const clock = new ManualClock();
    const net = new VirtualNetwork({ clock });
    const a = net.attach();
    const b = net.attach();
    const cap = new CapturingPort(b, path, { clock, epochBaseNs: EPOCH, ...opts });
    const toB = tcpFrame(1, 100, b.mac, a.mac);
    const toA = tcpFrame(2, 1400, a.mac, b.mac);
    clock.advanceTo(1_000);
    a.txBurst([toB], 1);
    expect(cap.rxBurst(buffers(1), 1)).to.equal(1);
    clock.advanceTo(900_002_500); // carries into the next second
    cap.txBurst([toA], 1);
    expect(drainFrames(a)).to.have.length(1);
    cap.close();
    return [toB.data.subarray(0, toB.length), toA.data.subarray(0, toA.length)];
  }

  it('writes a pcap global header: nanosecond magic, v2.4, UTC, snaplen, Ethernet', () => {
    const path = join(dir, 'a.pcap');
    exchange(path);
    const { header } = readPcap(readFileSync(path));
    expect(header).to.deep.equal({
      magic: PCAP_MAGIC_NANOSECONDS,
      major: 2,
      minor: 4,
      thiszone: 0,
      sigfigs: 0,
      snaplen: 65535,
      linktype: 1,
    });
  });

  it('writes received and transmitted frames byte-identical, with correct record headers', () => {
    const path = join(dir, 'b.pcap');
    const frames = exchange(path);
    const { records } = readPcap(readFileSync(path));
    expect(records).to.have.length(2);
    expect(records.map((r) => [r.seconds, r.fraction, r.stored, r.original])).to.deep.equal([
      [1_700_000_000, 123_457_789, frames[0]!.length, frames[0]!.length],
      [1_700_000_001, 23_459_289, frames[1]!.length, frames[1]!.length],
    ]);
    expect(records[0]!.bytes.equals(frames[0]!)).to.equal(true);
    expect(records[1]!.bytes.equals(frames[1]!)).to.equal(true);
  });

  it('writes microsecond timestamps with the classic magic when asked', () => {
    const path = join(dir, 'c.pcap');
    exchange(path, { precision: 'us' });
    const { header, records } = readPcap(readFileSync(path));
    expect(header.magic).to.equal(PCAP_MAGIC_MICROSECONDS);
    expect(records.map((r) => [r.seconds, r.fraction])).to.deep.equal([
      [1_700_000_000, 123_457],
      [1_700_000_001, 23_459],
    ]);
  });

  it('truncates to the snaplen and keeps the original length', () => {
    const chunks: Buffer[] = [];
    const w = new PcapWriter({ write: (b) => void chunks.push(Buffer.from(b)) }, { snaplen: 64 });
    const f = tcpFrame(1, 500);
    w.writeFrame(f.data, f.length, 0);
    w.close();
    const { records } = readPcap(Buffer.concat(chunks));
    expect(records[0]).to.include({ stored: 64, original: f.length });
    expect(records[0]!.bytes.equals(f.data.subarray(0, 64))).to.equal(true);
  });

  it('flushes when its buffer fills, and the chunks join into one valid file', () => {
    const chunks: Buffer[] = [];
    const w = new PcapWriter(
      { write: (b) => void chunks.push(Buffer.from(b)) },
      { bufferBytes: 1, snaplen: 2000 },
    );
    const frames = Array.from({ length: 10 }, (_, i) => testFrame(1, 2, i, 1000 + i));
    frames.forEach((f, i) => w.writeFrame(f.data, f.length, i));
    expect(chunks.length).to.be.at.least(9);
    w.close();
    const { records } = readPcap(Buffer.concat(chunks));
    expect(
      records.map((r) => r.bytes.equals(frames[r.fraction]!.data.subarray(0, frames[r.fraction]!.length))),
    ).to.deep.equal(new Array(10).fill(true));
  });

  it('stop() flushes buffered records to the file', async () => {
    const path = join(dir, 'd.pcap');
    const net = new VirtualNetwork();
    const cap = new CapturingPort(net.attach(), path);
    cap.txBurst([testFrame(0xffffffffffff, cap.mac, 1)], 1);
    expect(readFileSync(path).length).to.equal(0);
    await cap.stop();
    expect(readFileSync(path).length).to.equal(PCAP_GLOBAL_HEADER_BYTES + PCAP_RECORD_HEADER_BYTES + 64);
    cap.close();
    expect(() => cap.writer.writeFrame(Buffer.alloc(60), 60, 0)).to.throw(/closed/);
  });

  it('is readable by tshark, which decodes the frames we wrote', function () {
    if (spawnSync('tshark', ['--version']).status !== 0) this.skip(); // not installed: not checked
    const path = join(dir, 'e.pcap');
    exchange(path);
    const fields = [
      'frame.len',
      'ip.src',
      'tcp.seq_raw',
      'frame.time_epoch',
      'ip.checksum.status',
      'tcp.checksum.status',
    ];
    const out = execFileSync(
      'tshark',
      [
        ...['-r', path, '-T', 'fields', '-E', 'separator=,'],
        ...['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'],
        ...fields.flatMap((f) => ['-e', f]),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const rows = out
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    expect(rows.map((r) => r.slice(0, 3))).to.deep.equal([
      ['154', '10.0.0.1', '1'],
      ['1454', '10.0.0.1', '2'],
    ]);
    expect(rows[0]![3]).to.match(/^1700000000\.123457789/);
    expect(rows[1]![3]).to.match(/^1700000001\.023459289/);
    // Wireshark's checksum status: 0 bad, 1 good, 2 unverified.
    expect(rows.map((r) => r.slice(4))).to.deep.equal([
      ['1', '1'],
      ['1', '1'],
    ]);
  });
});

describe('TracingPort', () => {
  it('shows the hook every received and accepted transmitted frame, with its direction', () => {
    const net = new VirtualNetwork({ rxQueueFrames: 2 });
    const a = net.attach();
    const b = net.attach();
    const seen: [FrameDirection, number, number][] = [];
    const t = new TracingPort(b, (dir, frame, length) => seen.push([dir, frame[17]!, length]));
    a.txBurst([testFrame(b.mac, a.mac, 1, 70)], 1);
    t.rxBurst(buffers(4), 4);
    t.txBurst([testFrame(a.mac, b.mac, 2, 80), testFrame(a.mac, b.mac, 3, 90)], 2);
    expect(seen).to.deep.equal([
      ['rx', 1, 70],
      ['tx', 2, 80],
      ['tx', 3, 90],
    ]);
    expect(t.mac).to.equal(b.mac);
    expect(t.stats()).to.deep.equal(b.stats());
  });
});
