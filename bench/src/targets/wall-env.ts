/** The wall-clock time base: what Linux and the x86 backend report. */
import type { WorkloadEnv } from '../workloads/workload.js';
import { wallNow } from '../workloads/workload.js';

export function wallEnv(
  cpuScope: string,
  stageUtilisation?: () => Record<string, number> | null,
): WorkloadEnv {
  return {
    timeBase: 'wall',
    now: wallNow,
    cpuUs() {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
    cpuScope,
    ...(stageUtilisation ? { stageUtilisation } : {}),
  };
}
