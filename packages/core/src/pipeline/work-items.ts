/**
 * The typed contracts between stages. Each is a mutable record that a stage fills and the
 * next reads; runners keep pools of them, so nothing is allocated per packet.
 */
import type { SeqNumber } from '../wire/seq.js';
import type { PacketBuffer } from '../hw/packet-buffer.js';

/**
 * Pre-processing's summary of a data-path segment (FlexTOE: "summarise the segment"). The 32-bit
 * fields (seq, ack, tsVal, tsEcr) hold int32 bits, as the protocol records return them: never a
 * boxed number on the way through the stages; compare them only through `seq`.
 */
export class RxSummary {
  flowId = -1;
  /** Flow group = flow hash mod G: selects the protocol-stage instance. */
  group = 0;
  /** Per-group ingress sequence number; the reorder buffer restores this order. */
  ingressSeq = 0;
  seq = 0 as SeqNumber;
  ack = 0 as SeqNumber;
  /** Raw 16-bit window field, unscaled. */
  window = 0;
  /** TCP flags byte (wire/tcp.ts TcpFlag bits). */
  tcpFlags = 0;
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;
  /** IPv4 ECN field was CE (RFC 3168 5). */
  ce = false;
  /** Payload position within `frame.data`. */
  payloadOffset = 0;
  payloadLength = 0;
  /** The frame itself; owned by the runner until the DMA stage has copied the payload. */
  frame: PacketBuffer | null = null;
  /**
   * The memory the frame lives in as the DMA stage addresses it, and where the frame starts in
   * it (the runner's receive buffers share one region: one memory for the DMA engine to know).
   */
  frameMemory: Uint8Array | null = null;
  frameOffset = 0;
  /**
   * A view that starts at the payload (the runner keeps one per receive slot and header
   * shape), or null: a DMA copy from the start of a view is one native prefix copy without
   * allocating (`MemcpyDma`), where one from the middle of a memory is a word loop.
   */
  payloadView: Uint8Array | null = null;
}

/** What the protocol stage decided; applied by post-processing, DMA and the runner. */
export const ProtocolAction = {
  /** Send an ACK (or window update) carrying the fields below. */
  SendAck: 1 << 0,
  /** Copy payload bytes into the host RX ring at `rxPos` (RFC 9293 3.10.7.4 step 7). */
  DmaPayload: 1 << 1,
  /** Tell the application `rxBytes` more in-order bytes are readable. */
  NotifyRx: 1 << 2,
  /** Tell the application `txFreed` bytes of its TX ring were acknowledged. */
  NotifyTxFreed: 1 << 3,
  /** The peer's FIN arrived in order: EOF for the application, state change for the host. */
  FinReceived: 1 << 4,
  /** Our FIN was acknowledged: the host advances its close state machine. */
  FinAcked: 1 << 5,
  /** Go-back-N happened: transmission restarts at SND.UNA (FlexTOE: rate halves). */
  Retransmitted: 1 << 6,
  /** The flow may transmit: the queue manager should (re)activate it. */
  TxReady: 1 << 7,
  /** Set ECE on the ACK (RFC 3168 6.1.3; per segment as DCTCP, RFC 8257 3.2). */
  EchoCe: 1 << 8,
  /** The segment was dropped; `dropReason` says why. */
  Drop: 1 << 9,
  /** Transmit a segment described by the TX fields. */
  TxSegment: 1 << 10,
  /** A retransmitted FIN after ours was taken: TIME-WAIT restarts its 2 MSL timer (RFC 9293 3.10.7.4). */
  FinRepeated: 1 << 11,
} as const;

/** Why the data path dropped something; every drop is counted by reason. */
export enum DataPathDrop {
  None = 0,
  /** RFC 9293 3.10.7.4: sequence number not acceptable (answered with an ACK). */
  NotAcceptable,
  /** RFC 9293 3.10.7.4: ACK for data not yet sent (answered with an ACK). */
  AckTooNew,
  /** RFC 9293 3.10.7.4 fifth check: segment without ACK on a synchronized connection. */
  NoAck,
  /** RFC 7323 5.3: PAWS, timestamp older than TS.Recent (answered with an ACK). */
  Paws,
  /** Out-of-order segment that fits no interval (FlexTOE keeps a bounded number). */
  OooNoInterval,
  /** Segment arrived for a flow slot that is not installed. */
  FlowNotValid,
  /** Beyond the receive window after trimming: nothing left. */
  BeyondWindow,
}

export class ProtocolResult {
  actions = 0;
  dropReason: DataPathDrop = DataPathDrop.None;
  // Header fields for the ACK or data segment (post-processing builds the frame).
  seq = 0 as SeqNumber;
  ack = 0 as SeqNumber;
  /** Window to advertise, already shifted by our window scale. */
  window = 0;
  tsEcr = 0;
  /** TCP flags for a TX segment beyond ACK (FIN, PSH, CWR). */
  txFlags = 0;
  // Payload placement for RX (DMA stage).
  /** Offset in the host RX ring where the accepted payload starts. */
  rxPos = 0;
  /** Bytes at the front of the segment's payload already received (skipped). */
  payloadSkip = 0;
  /** Bytes of payload to copy. */
  payloadCopy = 0;
  /** In-order bytes that became readable (payload plus a merged out-of-order interval). */
  rxBytes = 0;
  // Transmit side.
  /** Bytes of the TX ring freed by this ACK. */
  txFreed = 0;
  /** Data bytes newly acknowledged and of those with ECE (congestion-control counters). */
  ackedBytes = 0;
  ecnBytes = 0;
  /** RTT sample from a timestamp echo in us, or -1 (FlexTOE measures RTT on the NIC). */
  rttUs = -1;
  // A TX segment.
  /** Offset in the host TX ring of the segment's payload and its length. */
  txPos = 0;
  txLength = 0;

  reset(): void {
    this.actions = 0;
    this.dropReason = DataPathDrop.None;
    this.txFlags = 0;
    this.payloadSkip = 0;
    this.payloadCopy = 0;
    this.rxBytes = 0;
    this.txFreed = 0;
    this.ackedBytes = 0;
    this.ecnBytes = 0;
    this.rttUs = -1;
    this.txLength = 0;
  }
}
