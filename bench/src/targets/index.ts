/** The targets a run compares, in table order: Linux first (the baseline), then the FlexTOE backends. */
import { DEFAULT_PLACEMENT } from '@flextoe/backend-x86';
import { variantCase, X86_VARIANTS } from '../plan.js';
import type { BackendId, Params, Preset, WorkloadName } from '../report/format.js';
import { flextoeTarget, type FlexToeTargetOptions } from './flextoe.js';
import { linuxLoopback } from './linux-loopback.js';
import { linuxNetns, linuxVeth } from './linux-netns.js';
import type { Target } from './target.js';

export interface TargetChoice {
  readonly backends: readonly BackendId[];
  readonly port: 'virtual' | 'tap' | 'dpdk';
  readonly root: boolean;
  /** Which cases the x86 placement variants run. */
  readonly preset: Preset;
}

export async function buildTargets(c: TargetChoice): Promise<Target[]> {
  const targets: Target[] = [];
  if (c.backends.includes('linux')) targets.push(await linuxBaseline(c.root, c.port));
  const flextoe: FlexToeTargetOptions[] = [];
  if (c.backends.includes('x86')) flextoe.push(...x86Targets(c));
  for (const b of ['agilio-sim', 'bluefield-sim'] as const)
    if (c.backends.includes(b)) flextoe.push({ backend: b, port: c.port });
  for (const o of flextoe) {
    const t = flextoeTarget(o);
    await t.prepare?.();
    targets.push(t);
  }
  return targets;
}

/**
 * x86 as configured by default, then its placement variants (issue 5) on the single-connection
 * cases, with run-to-completion among them when it is not the default: it is what the
 * variants' speedups divide by.
 */
function x86Targets(c: TargetChoice): FlexToeTargetOptions[] {
  const rtcIsDefault = DEFAULT_PLACEMENT === 'run-to-completion';
  const isDefault = (x86: Record<string, unknown>): boolean =>
    JSON.stringify(x86) === JSON.stringify({ placement: DEFAULT_PLACEMENT });
  const variants = [
    ...(rtcIsDefault ? [] : [{ id: 'run-to-completion', x86: { placement: 'run-to-completion' } }]),
    ...X86_VARIANTS.filter((v) => !isDefault(v.x86)), // the default is plain x86 already
  ];
  return [
    // Named explicitly, so the results file says which placement plain x86 rows ran.
    { backend: 'x86', port: c.port, x86: { placement: DEFAULT_PLACEMENT }, runToCompletion: rtcIsDefault },
    ...variants.map((v) => ({
      backend: 'x86' as const,
      port: c.port,
      x86: v.x86,
      variant: { id: v.id, applies: (w: WorkloadName, p: Params) => variantCase(c.preset, w, p) },
      runToCompletion: v.x86.placement === 'run-to-completion',
    })),
  ];
}

/**
 * As root, Linux runs in namespaces of its own: over a namespace's loopback (MTU 1500, like
 * FlexTOE's virtual wire), or, when FlexTOE uses a real port (`--port tap|dpdk`), across a veth
 * pair between two namespaces. Otherwise, or if that fails, on the host's loopback; the rows say which.
 */
async function linuxBaseline(root: boolean, port: TargetChoice['port']): Promise<Target> {
  if (!root) return linuxLoopback();
  const ns = port === 'virtual' ? linuxNetns() : linuxVeth();
  await ns.prepare();
  if (ns.why === null) return ns;
  const why = ns.why;
  await ns.close();
  return linuxLoopback(why);
}

export type { Target } from './target.js';
