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
  /** Bursts that waited for an asynchronous DMA engine's completions before releasing work. */
  dmaWaits = 0;
  notificationsDropped = 0;
  badRequests = 0;
  /**
   * User modules (pipeline/hooks.ts), by their slot in the data path's module list: the names,
   * and frames each dropped at ingress, sent to the control plane, dropped at egress. Grown when
   * a module is installed, never on the packet path.
   */
  hookNames: string[] = [];
  hookIngressDrops = new Float64Array(0);
  hookToControlPlane = new Float64Array(0);
  hookEgressDrops = new Float64Array(0);

  constructor(wireErrorCount: number) {
    this.wireErrors = new Float64Array(wireErrorCount);
  }

  /** Makes room for module slot `slot` named `name` (installation time). */
  addHook(slot: number, name: string): void {
    this.hookNames[slot] = name;
    const grow = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      if (a.length > slot) return a;
      const b = new Float64Array(slot + 1);
      b.set(a);
      return b;
    };
    this.hookIngressDrops = grow(this.hookIngressDrops);
    this.hookToControlPlane = grow(this.hookToControlPlane);
    this.hookEgressDrops = grow(this.hookEgressDrops);
  }

  snapshot(): DataPathStats {
    const byHook = (arr: Float64Array): Record<string, number> => {
      const out: Record<string, number> = {};
      for (let i = 0; i < arr.length; i++)
        if (arr[i]! > 0) out[this.hookNames[i]!] = (out[this.hookNames[i]!] ?? 0) + arr[i]!;
      return out;
    };
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
        waits: this.dmaWaits,
      },
      ctxq: { notificationsDropped: this.notificationsDropped, badRequests: this.badRequests },
      egress: { txFrames: this.txFrames, txDropped: this.txDropped, reorderRefused: this.egressRefused },
      hooks: {
        ingressDrop: byHook(this.hookIngressDrops),
        toControlPlane: byHook(this.hookToControlPlane),
        egressDrop: byHook(this.hookEgressDrops),
      },
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
  dma: { toHostBytes: number; fromHostBytes: number; refused: number; waits: number };
  ctxq: { notificationsDropped: number; badRequests: number };
  egress: { txFrames: number; txDropped: number; reorderRefused: number };
  /** User modules' verdicts by module name (pipeline/hooks.ts); empty records without modules. */
  hooks: {
    ingressDrop: Record<string, number>;
    toControlPlane: Record<string, number>;
    egressDrop: Record<string, number>;
  };
}
