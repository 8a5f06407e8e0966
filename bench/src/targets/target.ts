/**
 * A target is one column of the comparison: a backend on a port (Linux kernel TCP on loopback,
 * FlexTOE x86 on the virtual wire, a simulated NIC in modelled time). The suite asks each target
 * the same questions for every workload; a target that cannot run something says why, and the
 * row says so instead of disappearing.
 */
import type { BackendId, Metrics, Params, TimeBase, WorkloadName } from '../report/format.js';
import { SOCKET_WORKLOADS } from '../workloads/index.js';
import type { NetLike } from '../workloads/net-like.js';
import { within, type Budget, type WorkloadEnv } from '../workloads/workload.js';

export interface Target {
  readonly backend: BackendId;
  readonly port: string;
  /** A configuration of the backend other than its default (an x86 placement), or null. */
  readonly variant: string | null;
  /**
   * This target runs the backend's data path to completion on one core: the baseline its
   * variants' `vsRunToCompletion` divides by.
   */
  readonly runToCompletion?: boolean;
  /** The time base of the target's rows (`timeBaseOf` where one workload differs). */
  readonly timeBase: TimeBase;
  timeBaseOf?(workload: WorkloadName): TimeBase;
  /** A note that goes with every ok row of this target (e.g. "loopback MTU 65536"). */
  readonly note: string | null;
  /** How this target is set up, for the results file (resolved stack config, kernel settings). */
  describe?(): Record<string, unknown>;
  /** Checks once, before the first run, what this machine can do (availability, devices). */
  prepare?(): Promise<void>;
  /**
   * False: this target has no row for the workload (or this parameter set) at all: no Linux
   * pipeline micro-benchmark, x86 placement variants only on single-connection cases.
   */
  applies(workload: WorkloadName, params: Params): boolean;
  /** Why this target cannot run the workload with these params here, or null. */
  unavailable(workload: WorkloadName, params: Params): string | null;
  run(workload: WorkloadName, params: Params, budget: Budget): Promise<Metrics>;
  close(): Promise<void>;
}

/** Both ends of one run in this process: two `net`s (maybe the same), an address, a time base. */
export interface InProcessEnv {
  readonly server: NetLike;
  readonly client: NetLike;
  /** The address the client connects to. */
  readonly host: string;
  readonly env: WorkloadEnv;
  /** How the pair was built (the resolved stack configuration), for the results file. */
  readonly setup?: Record<string, unknown>;
  close(): Promise<void>;
}

/** Serves and drives a socket workload with both halves in this process. */
export async function runInProcess(
  open: () => Promise<InProcessEnv>,
  workload: WorkloadName,
  params: Params,
  budget: Budget,
): Promise<Metrics> {
  const w = SOCKET_WORKLOADS[workload];
  if (!w) throw new Error(`${workload} is not a socket workload`);
  const e = await within(open(), OPEN_CLOSE_MS, 'opening the stacks');
  try {
    const server = await w.serve(e.server, e.host, params);
    try {
      return await w.drive(e.client, e.host, server.port, params, e.env, budget);
    } finally {
      await within(server.close(), OPEN_CLOSE_MS, 'closing the server');
    }
  } finally {
    await within(e.close(), OPEN_CLOSE_MS, 'closing the stacks');
  }
}

/** Opening or closing a pair of stacks takes milliseconds; a minute means it hangs. */
const OPEN_CLOSE_MS = 60_000;

/** The file-descriptor need of a workload whose both ends live in one process. */
export function socketsNeeded(workload: WorkloadName, params: Params): number {
  const c = typeof params.connections === 'number' ? params.connections : 1;
  return workload === 'pipeline-micro' ? 0 : 2 * c;
}

export { within, StepTimeout } from '../workloads/workload.js';
