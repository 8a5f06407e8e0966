/**
 * `config.x86`: where the data path's stages run on this host.
 *
 * - `run-to-completion`: one NIC core (a worker thread) runs every stage for every flow; the
 *   control plane and the application stay on the main thread (FlexTOE's NIC/host split).
 * - `parallel`: `cores` NIC cores; the flow groups (FlexTOE: one protocol-stage instance per
 *   group) are spread over them and received frames are steered to their group's core (RSS),
 *   so different connections are processed on different cores at once.
 * - `inline`: no worker at all; every stage on the application's thread (the baseline).
 *
 * `graph.pre` gives each NIC core that many pre-processing replicas (threads that validate the
 * frames dealt to them round robin; the core takes them back in order); `graph.post` that many
 * post-processing replicas (threads that fill the TCP checksums of the frames the core
 * transmits, dealt round robin; the port bridge takes them back in order); `graph.dma` that many
 * DMA replicas (threads that run the core's payload copies between its packet buffers and the
 * host rings, with completions the core waits for before it notifies or transmits). `pin` pins the NIC
 * threads to CPUs (`true`: CPUs 1, 2, ... leaving 0 to the host thread, or an explicit list),
 * where the OS allows it.
 */
import { ConfigError, type ConfigProblem } from '@flextoe/core';

export const PLACEMENTS = ['run-to-completion', 'parallel', 'inline'] as const;
export type Placement = (typeof PLACEMENTS)[number];

export interface X86Options {
  readonly placement: Placement;
  /** NIC cores (worker threads); 1 for run-to-completion, 0 inline. */
  readonly cores: number;
  /** Pre-processing replica threads per NIC core (`graph.pre`; 0: the core pre-processes). */
  readonly preReplicas: number;
  /** Post-processing replica threads per NIC core (`graph.post`; 0: the core post-processes). */
  readonly postReplicas: number;
  /** DMA replica threads per NIC core (`graph.dma`; 0: the core copies payload itself). */
  readonly dmaReplicas: number;
  /** CPUs to pin the NIC cores to, one per core, or null (not pinned). */
  readonly pin: readonly number[] | null;
  /** Empty rounds a NIC core spins before it sleeps on its doorbell. */
  readonly spinRounds: number;
  /**
   * Microseconds the host thread keeps polling (on its event loop) after its last work while a
   * NIC core is awake, before it sleeps on its doorbell (threads/README.md, "Idle back-off").
   */
  readonly hostSpinUs: number;
  /**
   * Which thread runs the port's bursts: `host` (the main thread, bridging frames to the cores
   * through rings) or `nic-core` (the port is handed to the one NIC core, which runs its bursts
   * itself as a registered DPDK lcore; dpdk ports only, run-to-completion).
   */
  readonly portThread: PortThread;
}

export const PORT_THREADS = ['host', 'nic-core'] as const;
export type PortThread = (typeof PORT_THREADS)[number];

/** The placement used when the configuration names none (see the README for the figures). */
export const DEFAULT_PLACEMENT: Placement = 'run-to-completion';
const DEFAULT_PARALLEL_CORES = 2;
const GRAPH_KEYS = ['pre', 'post', 'dma'];
const KNOWN_KEYS = ['placement', 'cores', 'graph', 'pin', 'spinRounds', 'hostSpinUs', 'portThread'];
/** See `X86Options.hostSpinUs`: about two hand-offs to a core and back on a quiet machine. */
export const DEFAULT_HOST_SPIN_US = 250;

/** Validates `config.x86`; throws a ConfigError naming each bad field. */
export function x86Options(raw: Record<string, unknown>, cpuCount: number): X86Options {
  const problems: ConfigProblem[] = [];
  const bad = (field: string, value: unknown, detail: string, allowed?: readonly unknown[]): void => {
    problems.push({ field: `/x86/${field}`, value, detail, ...(allowed ? { allowed } : {}) });
  };
  for (const k of Object.keys(raw))
    if (!KNOWN_KEYS.includes(k)) bad(k, raw[k], `/x86/${k} is not an x86 option`, KNOWN_KEYS);
  const placement = (raw.placement ?? DEFAULT_PLACEMENT) as Placement;
  if (!PLACEMENTS.includes(placement))
    bad(
      'placement',
      raw.placement,
      `/x86/placement is ${JSON.stringify(raw.placement)} but must be one of ${PLACEMENTS.join(', ')}`,
      PLACEMENTS,
    );
  const fixedCores = placement === 'inline' ? 0 : placement === 'run-to-completion' ? 1 : null;
  let cores = fixedCores ?? DEFAULT_PARALLEL_CORES;
  if (raw.cores !== undefined) {
    const c = raw.cores;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 64)
      bad('cores', c, `/x86/cores is ${JSON.stringify(c)} but must be an integer from 1 to 64`);
    else if (fixedCores !== null && c !== fixedCores)
      bad('cores', c, `/x86/cores is ${c} but placement ${placement} uses ${fixedCores}`);
    else cores = c;
  }
  let preReplicas = 0;
  let postReplicas = 0;
  let dmaReplicas = 0;
  if (raw.graph !== undefined) {
    const g = raw.graph as Record<string, unknown>;
    if (typeof g !== 'object' || g === null || Array.isArray(g))
      bad('graph', g, `/x86/graph must be an object like { "pre": 2, "post": 2, "dma": 1 }`);
    else {
      for (const k of Object.keys(g))
        if (!GRAPH_KEYS.includes(k))
          bad(
            `graph/${k}`,
            g[k],
            `/x86/graph/${k} is not placeable on x86 (only pre, post and dma are replicated; protocol runs per flow group on the NIC cores)`,
            GRAPH_KEYS,
          );
      const replicas = (key: 'pre' | 'post' | 'dma'): number => {
        const r = g[key];
        if (r === undefined) return 0;
        if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > 16)
          bad(
            `graph/${key}`,
            r,
            `/x86/graph/${key} is ${JSON.stringify(r)} but must be an integer from 0 to 16`,
          );
        else if (placement === 'inline' && r > 0)
          bad(`graph/${key}`, r, `/x86/graph/${key} needs NIC cores; placement inline has none`);
        else return r;
        return 0;
      };
      preReplicas = replicas('pre');
      postReplicas = replicas('post');
      dmaReplicas = replicas('dma');
    }
  }
  let spinRounds = 64;
  if (raw.spinRounds !== undefined) {
    const s = raw.spinRounds;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 1e6)
      bad(
        'spinRounds',
        s,
        `/x86/spinRounds is ${JSON.stringify(s)} but must be an integer from 0 to 1000000`,
      );
    else spinRounds = s;
  }
  let hostSpinUs = DEFAULT_HOST_SPIN_US;
  if (raw.hostSpinUs !== undefined) {
    const h = raw.hostSpinUs;
    if (typeof h !== 'number' || !Number.isFinite(h) || h < 0 || h > 100_000)
      bad('hostSpinUs', h, `/x86/hostSpinUs is ${JSON.stringify(h)} but must be a number from 0 to 100000`);
    else hostSpinUs = h;
  }
  let portThread: PortThread = 'host';
  if (raw.portThread !== undefined) {
    const t = raw.portThread as PortThread;
    if (!PORT_THREADS.includes(t))
      bad(
        'portThread',
        raw.portThread,
        `/x86/portThread is ${JSON.stringify(raw.portThread)} but must be one of ${PORT_THREADS.join(', ')}`,
        PORT_THREADS,
      );
    else if (
      t === 'nic-core' &&
      (cores !== 1 || preReplicas !== 0 || postReplicas !== 0 || dmaReplicas !== 0)
    )
      bad(
        'portThread',
        t,
        `/x86/portThread nic-core hands the port to one NIC core (one receive queue, no RSS): it needs ` +
          `placement run-to-completion (or parallel with cores 1) and no graph.pre, graph.post or graph.dma; this is ` +
          `${placement} with ${cores} core(s), ${preReplicas} pre, ${postReplicas} post and ${dmaReplicas} DMA replica(s)`,
      );
    else portThread = t;
  }
  let pin: number[] | null = null;
  const p = raw.pin;
  // One CPU per NIC thread: the cores first, then their pre-, post-processing and DMA replicas.
  const threads = cores * (1 + preReplicas + postReplicas + dmaReplicas);
  if (p === true)
    pin = Array.from({ length: threads }, (_, i) => (cpuCount > 1 ? 1 + (i % (cpuCount - 1)) : 0));
  else if (Array.isArray(p)) {
    if (p.length !== threads || !p.every((x) => Number.isInteger(x) && x >= 0 && x < cpuCount))
      bad(
        'pin',
        p,
        `/x86/pin must list ${threads} CPU number(s) below ${cpuCount} (one per NIC core, then one per pre, post and DMA replica), or be true/false`,
      );
    else pin = p as number[];
  } else if (p !== undefined && p !== false)
    bad('pin', p, `/x86/pin is ${JSON.stringify(p)} but must be true, false or a list of CPUs`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    placement,
    cores,
    preReplicas,
    postReplicas,
    dmaReplicas,
    pin,
    spinRounds,
    hostSpinUs,
    portThread,
  };
}
