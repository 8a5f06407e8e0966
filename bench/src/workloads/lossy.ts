/**
 * Lossy link: bulk transfer or RPC echo while the link drops `loss` of the frames in each
 * direction. The target applies the loss (the virtual wire's seeded fault injector for FlexTOE,
 * an nftables `numgen random` rule in a namespace for Linux); this module only picks the inner
 * workload, so both stacks see the same traffic.
 */
import type { Params } from '../report/format.js';
import { bulk } from './bulk.js';
import { rpcEcho } from './rpc-echo.js';
import { str, type Workload } from './workload.js';

const inner = (params: Params): Workload => {
  const mode = str(params, 'mode');
  if (mode === 'bulk') return bulk;
  if (mode === 'rpc') return rpcEcho;
  throw new RangeError(`lossy: mode must be bulk or rpc, got ${mode}`);
};

export const lossy: Workload = {
  name: 'lossy',
  serve: (net, host, params) => inner(params).serve(net, host, params),
  drive: (net, host, port, params, env, budget) => inner(params).drive(net, host, port, params, env, budget),
};

/** The loss probability a run asks its link for (0 for every other workload). */
export function lossOf(params: Params): number {
  return typeof params.loss === 'number' ? params.loss : 0;
}
