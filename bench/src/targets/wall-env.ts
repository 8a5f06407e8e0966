/**
 * The wall-clock time base (Linux and x86) and the CPU meters. The application's host CPU is
 * the CPU time of the thread the application runs on, from Linux's per-thread scheduler
 * statistics (`/proc/thread-self/schedstat`, nanoseconds): that is the host cost the offload
 * claim is about. Work on other threads (the x86 backend's NIC-core threads) is counted only in
 * the process total (`process.cpuUsage()`, every thread), reported beside it.
 */
import { readFileSync } from 'node:fs';
import type { WorkloadEnv } from '../workloads/workload.js';
import { wallNow } from '../workloads/workload.js';

const SCHEDSTAT = '/proc/thread-self/schedstat';
let schedstat: boolean | null = null;

/** CPU time of the calling thread in microseconds, or null where Linux's schedstat is missing. */
export function threadCpuUs(): number | null {
  if (schedstat === false) return null;
  try {
    const ns = Number(readFileSync(SCHEDSTAT, 'latin1').split(' ', 1)[0]);
    schedstat = Number.isFinite(ns);
    return schedstat ? ns / 1000 : null;
  } catch {
    schedstat = false;
    return null;
  }
}

/** CPU time of every thread of this process (user + system), microseconds. */
export function processCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export function wallEnv(cpuScope: string): WorkloadEnv {
  const thread = threadCpuUs() !== null;
  return {
    timeBase: 'wall',
    now: wallNow,
    cpuUs: thread ? threadCpuUs : processCpuUs,
    processCpuUs,
    cpuScope: thread
      ? `application thread CPU (Linux schedstat): ${cpuScope}`
      : `process CPU, every thread (no per-thread schedstat here): ${cpuScope}`,
  };
}
