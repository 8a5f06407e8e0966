/**
 * Data-path counters: every drop and every slow-path hand-off counted by reason, plus
 * per-stage work counts. Plain numbers and typed arrays, incremented on the hot path without
 * allocating; `snapshot()` builds the readable object.
 */
import { WireError, wireErrorName } from '../wire/drop-reason.js';
import { SLOW_PATH_REASON_NAMES, SlowPathReason } from '../pipeline/slow-path.js';
import { DataPathDrop } from '../pipeline/work-items.js';

export class DataPathCounters {
  rxFrames = 0;
  notForUs = 0;
  readonly wireErrors: Float64Array;
  readonly slowPath = new Float64Array(8);
  exceptionsDropped = 0;
  reorderFull = 0;
  protocolRx = 0;
  readonly protocolDrops = new Float64Array(16);
  fastRetransmits = 0;
  timeoutRetransmits = 0;
  acksSent = 0;
  dataSegments = 0;
  controlFrames = 0;
  txFrames = 0;
  txDropped = 0;
  /** Egress numbers the egress reorder buffer refused, or frames it still held at a flush (a bug if not 0). */
  egressRefused = 0;
  dmaToHostBytes = 0;
  dmaFromHostBytes = 0;
  dmaRefused = 0;
  notificationsDropped = 0;
  badRequests = 0;

  constructor(wireErrorCount: number) {
    this.wireErrors = new Float64Array(wireErrorCount);
  }

  snapshot(): DataPathStats {
    const byName = <E extends number>(arr: Float64Array, name: (e: E) => string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (let i = 1; i < arr.length; i++) if (arr[i]! > 0) out[name(i as E)] = arr[i]!;
      return out;
    };
    return {
      pre: {
        rxFrames: this.rxFrames,
        notForUs: this.notForUs,
        malformed: byName<WireError>(this.wireErrors, wireErrorName),
        slowPath: byName<SlowPathReason>(this.slowPath, (r) => SLOW_PATH_REASON_NAMES[r] ?? `reason-${r}`),
        exceptionsDropped: this.exceptionsDropped,
      },
      reorder: { full: this.reorderFull },
      protocol: {
        segments: this.protocolRx,
        drops: byName<DataPathDrop>(this.protocolDrops, (d) => DataPathDrop[d] ?? `drop-${d}`),
        fastRetransmits: this.fastRetransmits,
        timeoutRetransmits: this.timeoutRetransmits,
      },
      post: { acks: this.acksSent, dataSegments: this.dataSegments, controlFrames: this.controlFrames },
      dma: {
        toHostBytes: this.dmaToHostBytes,
        fromHostBytes: this.dmaFromHostBytes,
        refused: this.dmaRefused,
      },
      ctxq: { notificationsDropped: this.notificationsDropped, badRequests: this.badRequests },
      egress: { txFrames: this.txFrames, txDropped: this.txDropped, reorderRefused: this.egressRefused },
    };
  }
}

export interface DataPathStats {
  pre: {
    rxFrames: number;
    notForUs: number;
    malformed: Record<string, number>;
    slowPath: Record<string, number>;
    exceptionsDropped: number;
  };
  reorder: { full: number };
  protocol: {
    segments: number;
    drops: Record<string, number>;
    fastRetransmits: number;
    timeoutRetransmits: number;
  };
  post: { acks: number; dataSegments: number; controlFrames: number };
  dma: { toHostBytes: number; fromHostBytes: number; refused: number };
  ctxq: { notificationsDropped: number; badRequests: number };
  egress: { txFrames: number; txDropped: number; reorderRefused: number };
}
