/**
 * What Linux's procfs says about threads of this process: ids, CPU time, allowed CPUs. Used by
 * the NIC cores (their own id and CPU time) and by the host (pinning checks, idle CPU tests).
 * Every function returns a "not available" value instead of throwing where there is no procfs.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** This thread's Linux id (gettid), from /proc/thread-self; -1 where there is no procfs. */
export function threadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return -1;
  }
}

/**
 * CPU time (user + system, ms) of thread `tid` of this process, or of the calling thread when
 * `tid` is omitted; -1 without procfs.
 */
export function threadCpuMs(tid?: number): number {
  try {
    const path = tid === undefined ? '/proc/thread-self/stat' : `/proc/self/task/${tid}/stat`;
    return cpuMsFromStat(readFileSync(path, 'utf8'));
  } catch {
    return -1;
  }
}

/**
 * utime + stime of a proc(5) stat line, in ms: fields 14 and 15, counted in clock ticks of
 * 1/100 s (USER_HZ on Linux). The command name (field 2) may hold spaces, so split after ')'.
 */
export function cpuMsFromStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Linux ids of every thread of this process. */
export function processThreadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [];
  }
}

/** The CPUs thread `tid` of this process may run on, or null without procfs. */
export function threadCpus(tid: number): number[] | null {
  try {
    const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    const line = /^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1];
    return line === undefined ? null : parseCpuList(line);
  } catch {
    return null;
  }
}

/** '0-2,5' -> [0, 1, 2, 5] (the kernel's list format, cpuset(7)). */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) out.push(c);
  }
  return out;
}
