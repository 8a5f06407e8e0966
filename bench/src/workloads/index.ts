import type { WorkloadName } from '../report/format.js';
import { bulk } from './bulk.js';
import { kv } from './kv.js';
import { lossy } from './lossy.js';
import { manyConnections, rpcEcho } from './rpc-echo.js';
import type { Workload } from './workload.js';

/** The socket workloads by name (pipeline-micro drives the core directly; see pipeline-micro.ts). */
export const SOCKET_WORKLOADS: Readonly<Partial<Record<WorkloadName, Workload>>> = {
  'rpc-echo': rpcEcho,
  bulk,
  kv,
  'many-connections': manyConnections,
  lossy,
};

/** Workloads both halves of which are applications on a `net` (every backend and Linux run them). */
export const isSocketWorkload = (w: WorkloadName): boolean => SOCKET_WORKLOADS[w] !== undefined;

export { lossOf } from './lossy.js';
export * from './net-like.js';
export * from './workload.js';
