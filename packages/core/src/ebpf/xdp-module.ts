/**
 * An XDP program as a data-path module: its `ingress` hook runs the program on every received
 * frame at the point the kernel would (before pre-processing; pipeline/hooks.ts), with the
 * context a program reads, struct xdp_md (linux/bpf.h):
 *
 *   struct xdp_md { __u32 data; __u32 data_end; __u32 data_meta; __u32 ingress_ifindex; __u32 rx_queue_index; };
 *
 * `data`/`data_end` are 32-bit addresses the VM maps onto the frame (vm.ts PACKET_BASE), so the
 * usual `if (data + n > data_end) return XDP_PASS;` checks work as written; there is no metadata
 * area (`data_meta == data`). Return codes (enum xdp_action) become hook verdicts:
 * XDP_PASS -> Pass; XDP_DROP -> Drop; XDP_ABORTED, an out-of-bounds access and an unknown code
 * -> Drop (the kernel's trace_xdp_exception cases). XDP_TX and XDP_REDIRECT need a transmit path
 * from the ingress hook that the data path does not offer: the frame is dropped and counted in
 * `counters.tx` / `counters.redirect` so a user sees why. Every drop is also counted under the
 * module's name in `stats().dataPath.hooks.ingressDrop`.
 */
import type { PacketBuffer } from '../hw/packet-buffer.js';
import { HookVerdict, type DataPathModule } from '../pipeline/hooks.js';
import { decodeProgram, verifyProgram, type BpfProgram } from './instructions.js';
import { BpfVm, PACKET_BASE, RUN_ABORTED } from './vm.js';

/** enum xdp_action (linux/bpf.h). */
export enum XdpAction {
  Aborted = 0,
  Drop = 1,
  Pass = 2,
  Tx = 3,
  Redirect = 4,
}

/** Bytes of struct xdp_md and its field offsets. */
export const XDP_MD_BYTES = 20;
const XDP_MD_DATA = 0;
const XDP_MD_DATA_END = 4;
const XDP_MD_DATA_META = 8;
const XDP_MD_INGRESS_IFINDEX = 12;
const XDP_MD_RX_QUEUE_INDEX = 16;

export interface XdpModuleOptions {
  /** The counters' key (module-loader: `<file name>:<section>`). */
  name: string;
  /** xdp_md.ingress_ifindex (default 1). */
  ifindex?: number;
  /** xdp_md.rx_queue_index (default 0). */
  rxQueue?: number;
  /** bpf_ktime_get_ns's clock. */
  clockNs?: () => number;
}

/** What the program decided, per action, plus runs stopped by an out-of-bounds access. */
export interface XdpCounters {
  pass: number;
  drop: number;
  aborted: number;
  /** Runs stopped by the VM (out-of-bounds load or store); also counted in `aborted`. */
  outOfBounds: number;
  tx: number;
  redirect: number;
  /** Return codes outside enum xdp_action (dropped). */
  unknown: number;
}

export class XdpModule implements DataPathModule {
  readonly name: string;
  readonly counters: XdpCounters = {
    pass: 0,
    drop: 0,
    aborted: 0,
    outOfBounds: 0,
    tx: 0,
    redirect: 0,
    unknown: 0,
  };
  /** The interpreter (its `abortPc`/`abortReason` say where the last out-of-bounds run stopped). */
  readonly vm: BpfVm;

  constructor(program: BpfProgram, options: XdpModuleOptions) {
    this.name = options.name;
    this.vm = new BpfVm(verifyProgram(program), {
      contextBytes: XDP_MD_BYTES,
      ...(options.clockNs ? { clockNs: options.clockNs } : {}),
    });
    const ctx = this.vm.context;
    writeU32(ctx, XDP_MD_DATA, PACKET_BASE);
    writeU32(ctx, XDP_MD_DATA_META, PACKET_BASE);
    writeU32(ctx, XDP_MD_INGRESS_IFINDEX, options.ifindex ?? 1);
    writeU32(ctx, XDP_MD_RX_QUEUE_INDEX, options.rxQueue ?? 0);
  }

  /** From the instruction bytes of a program section (elf.ts extractXdpProgram). */
  static fromCode(code: Uint8Array, options: XdpModuleOptions): XdpModule {
    return new XdpModule(decodeProgram(code), options);
  }

  ingress(frame: PacketBuffer): HookVerdict {
    const vm = this.vm;
    vm.setPacket(frame.data, frame.length);
    writeU32(vm.context, XDP_MD_DATA_END, PACKET_BASE + frame.length);
    const action = vm.run();
    const c = this.counters;
    switch (action) {
      case XdpAction.Pass:
        c.pass++;
        return HookVerdict.Pass;
      case XdpAction.Drop:
        c.drop++;
        return HookVerdict.Drop;
      case XdpAction.Aborted:
        c.aborted++;
        return HookVerdict.Drop;
      case RUN_ABORTED:
        c.aborted++;
        c.outOfBounds++;
        return HookVerdict.Drop;
      case XdpAction.Tx:
        c.tx++;
        return HookVerdict.Drop;
      case XdpAction.Redirect:
        c.redirect++;
        return HookVerdict.Drop;
      default:
        c.unknown++;
        return HookVerdict.Drop;
    }
  }
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value;
  bytes[at + 1] = value >>> 8;
  bytes[at + 2] = value >>> 16;
  bytes[at + 3] = value >>> 24;
}
