/** The targets a run compares, in table order: Linux first (the baseline), then the FlexTOE backends. */
import type { BackendId } from '../report/format.js';
import { flextoeTarget } from './flextoe.js';
import { linuxLoopback } from './linux-loopback.js';
import { linuxNetns } from './linux-netns.js';
import type { Target } from './target.js';

export interface TargetChoice {
  readonly backends: readonly BackendId[];
  readonly port: 'virtual' | 'tap' | 'dpdk';
  readonly root: boolean;
}

export async function buildTargets(c: TargetChoice): Promise<Target[]> {
  const targets: Target[] = [];
  if (c.backends.includes('linux')) targets.push(await linuxBaseline(c.root));
  for (const b of ['x86', 'agilio-sim', 'bluefield-sim'] as const) {
    if (!c.backends.includes(b)) continue;
    const t = flextoeTarget({ backend: b, port: c.port });
    await t.prepare?.();
    targets.push(t);
  }
  return targets;
}

/**
 * As root, Linux runs in a namespace of its own (MTU 1500 like FlexTOE's wire, loss possible);
 * otherwise, or if that fails, on the host's loopback, and the rows say which.
 */
async function linuxBaseline(root: boolean): Promise<Target> {
  if (!root) return linuxLoopback();
  const ns = linuxNetns();
  await ns.prepare();
  if (ns.why === null) return ns;
  const why = ns.why;
  await ns.close();
  return linuxLoopback(why);
}

export type { Target } from './target.js';
