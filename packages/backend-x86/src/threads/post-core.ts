/**
 * A post-processing replica (FlexTOE stage 3, replicated): a worker thread that finishes the
 * frames its NIC core transmitted, in place in one staged ring, with the per-byte part of
 * post-processing: the TCP checksum over the segment. The core runs its data path with a port
 * that advertises transmit checksum offload (`PortCapabilities.txChecksumOffload`, DPDK's
 * PKT_TX_TCP_CKSUM): it builds headers only and never reads the payload, leaving the
 * pseudo-header sum in the checksum field. This thread is the device that fills it.
 *
 * The checksum is computed from the frame's own header (pseudo-header from the IPv4 addresses
 * and length, then the segment with the field zeroed), not from the sum the core left: the
 * control plane's frames (SYN, RST, built with full checksums) cross the same ring, and a frame
 * cannot say which kind it is. Both come out as inline post-processing would write them. Frames
 * that are not IPv4/TCP (ARP) pass untouched.
 *
 * The core deals its frames to its replicas round robin and the port bridge takes them back in
 * the same order, so the wire sees the core's order. Idle replicas sleep on their doorbell.
 */
import { finishChecksum, sumWordsVia } from '@flextoe/core/nic';
import { Doorbell } from './doorbell.js';
import { HostCtl } from './nic-protocol.js';
import { StagedRing } from './staged-ring.js';
import { ReplicaCtl, runReplica } from './replica-loop.js';
import type { FrameRingShape } from './frame-ring.js';
import { threadId } from './proc.js';

/** A post replica's control block (Int32 words: ReplicaCtl's, then its counters). */
export const PostCtl = {
  ...ReplicaCtl,
  /** Replica: TCP frames whose checksum it filled. */
  finished: 32,
  /** Replica: frames passed on untouched (not IPv4/TCP, or truncated). */
  passed: 33,
} as const;

export interface PostCoreInit {
  readonly role: 'post';
  /** Index among all post replicas. */
  readonly index: number;
  readonly ctl: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  readonly shape: FrameRingShape;
  /** The host's control block: its doorbell is rung when frames are ready for the bridge. */
  readonly hostCtl: SharedArrayBuffer;
  readonly spinRounds: number;
}

const BATCH = 32;
const ETH = 14;
const ETHERTYPE_IPV4 = 0x0800;
const PROTOCOL_TCP = 6;
/** The TCP checksum field's offset in the TCP header (RFC 9293 3.1). */
const TCP_CHECKSUM = 16;

/**
 * Fills the TCP checksum of the IPv4/TCP frame in `b[0, length)` (RFC 9293 3.1: pseudo-header,
 * then the segment with the field zero). `words` is an Int32Array over b's buffer from byte 0.
 * Returns false (frame untouched) for anything else.
 */
export function fillTcpChecksum(words: Int32Array, b: Uint8Array, length: number): boolean {
  if (length < ETH + 20 + 20) return false;
  if (((b[12]! << 8) | b[13]!) !== ETHERTYPE_IPV4 || b[ETH + 9] !== PROTOCOL_TCP) return false;
  const ihl = (b[ETH]! & 0x0f) << 2;
  const totalLength = (b[ETH + 2]! << 8) | b[ETH + 3]!;
  const tcp = ETH + ihl;
  const tcpLength = totalLength - ihl;
  if (ihl < 20 || tcpLength < 20 || tcp + tcpLength > length) return false;
  b[tcp + TCP_CHECKSUM] = 0;
  b[tcp + TCP_CHECKSUM + 1] = 0;
  // Pseudo-header: source and destination addresses (IPv4 bytes 12..20), protocol, TCP length.
  const base = b.byteOffset;
  const pseudo = sumWordsVia(words, base, b, ETH + 12, ETH + 20, PROTOCOL_TCP + tcpLength);
  const sum = finishChecksum(sumWordsVia(words, base, b, tcp, tcp + tcpLength, pseudo));
  b[tcp + TCP_CHECKSUM] = sum >>> 8;
  b[tcp + TCP_CHECKSUM + 1] = sum;
  return true;
}

export class PostCore {
  private readonly ctl: Int32Array;
  private readonly bell: Doorbell;
  private readonly hostBell: Doorbell;
  private readonly ring: StagedRing;
  private readonly words: Int32Array;

  constructor(readonly init: PostCoreInit) {
    this.ctl = new Int32Array(init.ctl, 0, PostCtl.words);
    this.bell = new Doorbell(this.ctl, PostCtl.bell);
    this.hostBell = new Doorbell(new Int32Array(init.hostCtl, 0, HostCtl.words), HostCtl.bell);
    this.ring = StagedRing.attach(init.ring, init.shape);
    this.words = new Int32Array(init.ring, 0, init.ring.byteLength >>> 2);
    Atomics.store(this.ctl, PostCtl.tid, threadId());
  }

  /** Finishes up to one batch; returns frames handled. */
  round(): number {
    const ring = this.ring;
    let n = 0;
    let finished = 0;
    while (n < BATCH) {
      const slot = ring.stagePeek();
      if (slot < 0) break;
      const f = ring.slot(slot, true);
      if (fillTcpChecksum(this.words, f.data, f.length)) finished++;
      ring.stageDone(0);
      n++;
    }
    if (n > 0) {
      ring.stageCommit();
      this.hostBell.ring(); // the bridge transmits them
      if (finished > 0) Atomics.add(this.ctl, PostCtl.finished, finished);
      if (n > finished) Atomics.add(this.ctl, PostCtl.passed, n - finished);
    }
    return n;
  }

  run(): void {
    // The core stopped first: what it transmitted last is finished before the thread ends.
    runReplica(
      {
        ctl: this.ctl,
        bell: this.bell,
        pending: () => this.ring.stagePending,
        spinRounds: this.init.spinRounds,
        round: () => this.round(),
      },
      true,
    );
  }
}
