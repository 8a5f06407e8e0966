/** The targets a run compares, in table order: Linux first (the baseline), then the FlexTOE backends. */
import type { BackendId } from '../report/format.js';
import { flextoeTarget } from './flextoe.js';
import { linuxLoopback } from './linux-loopback.js';
import { linuxNetns, linuxVeth } from './linux-netns.js';
import type { Target } from './target.js';

export interface TargetChoice {
  readonly backends: readonly BackendId[];
  readonly port: 'virtual' | 'tap' | 'dpdk';
  readonly root: boolean;
}

export async function buildTargets(c: TargetChoice): Promise<Target[]> {
  const targets: Target[] = [];
  if (c.backends.includes('linux')) targets.push(await linuxBaseline(c.root, c.port));
  for (const b of ['x86', 'agilio-sim', 'bluefield-sim'] as const) {
    if (!c.backends.includes(b)) continue;
    const t = flextoeTarget({ backend: b, port: c.port });
    await t.prepare?.();
    targets.push(t);
  }
  return targets;
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
