/**
 * A pre-processing replica (FlexTOE stage 1, replicated): a worker thread that validates the
 * frames of one staged ring in place, headers and checksums, with core's checked parser, and
 * hands each one on to its NIC core with a verdict (0, or the `WireError` it was dropped for).
 * Several replicas feed one NIC core, frames dealt to them round robin by the port bridge; the
 * core takes them back round robin, so order is kept per flow as FlexTOE's ingress sequencing
 * and reorder step keep it. The NIC core's own pre-processing then skips the checksums
 * (`ParseFlag`, as with a NIC's receive checksum offload) and does the flow lookup: the flow
 * table stays written and read by one thread.
 *
 * Idle replicas sleep on their doorbell like NIC cores.
 */
import { parseFrame, ParsedFrame } from '@flextoe/core/nic';
import { Doorbell } from './doorbell.js';
import { StagedRing } from './staged-ring.js';
import { ReplicaCtl, runReplica } from './replica-loop.js';
import type { FrameRingShape } from './frame-ring.js';
import { threadId } from './proc.js';

/** A pre replica's control block (Int32 words: ReplicaCtl's, then its counters). */
export const PreCtl = {
  ...ReplicaCtl,
  /** Replica: frames validated, and of those dropped. */
  validated: 32,
  dropped: 33,
} as const;

export interface PreCoreInit {
  readonly role: 'pre';
  /** Index among all pre replicas. */
  readonly index: number;
  readonly ctl: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  readonly shape: FrameRingShape;
  /** The downstream NIC core's control block (its doorbell is rung when frames are ready). */
  readonly coreCtl: SharedArrayBuffer;
  readonly coreBellWord: number;
  readonly spinRounds: number;
}

const BATCH = 32;

export class PreCore {
  private readonly ctl: Int32Array;
  private readonly bell: Doorbell;
  private readonly coreBell: Doorbell;
  private readonly ring: StagedRing;
  private readonly parsed = new ParsedFrame();

  constructor(readonly init: PreCoreInit) {
    this.ctl = new Int32Array(init.ctl, 0, PreCtl.words);
    this.bell = new Doorbell(this.ctl, PreCtl.bell);
    this.coreBell = new Doorbell(new Int32Array(init.coreCtl), init.coreBellWord);
    this.ring = StagedRing.attach(init.ring, init.shape);
    Atomics.store(this.ctl, PreCtl.tid, threadId());
  }

  /** Validates up to one batch; returns frames handled. */
  round(): number {
    const ring = this.ring;
    const p = this.parsed;
    let n = 0;
    let dropped = 0;
    while (n < BATCH) {
      const slot = ring.stagePeek();
      if (slot < 0) break;
      const f = ring.slot(slot, true);
      // Full checks (no ParseFlag): this replica does the per-byte work of pre-processing.
      const verdict = parseFrame(f.data, 0, f.length, p);
      if (verdict !== 0) dropped++;
      ring.stageDone(verdict);
      n++;
    }
    if (n > 0) {
      ring.stageCommit();
      this.coreBell.ring();
      Atomics.add(this.ctl, PreCtl.validated, n);
      if (dropped > 0) Atomics.add(this.ctl, PreCtl.dropped, dropped);
    }
    return n;
  }

  run(): void {
    runReplica(
      {
        ctl: this.ctl,
        bell: this.bell,
        pending: () => this.ring.stagePending,
        spinRounds: this.init.spinRounds,
        round: () => this.round(),
      },
      false,
    );
  }
}
