/**
 * CPU pinning for NIC core threads: sched_setaffinity(2) through ffi-rs, called on the host
 * thread with the worker's Linux thread id (Linux takes a thread id where the man page says
 * pid). Workers never load ffi-rs themselves: a worker that loads it first crashes the process
 * when it exits (napi-rs teardown, ffi-rs 1.3.7 on Node 20), so the host does it for them.
 *
 * Pinning may be refused (a container's cpuset, a CPU offline): the result says why and the
 * stack runs unpinned rather than failing.
 */
import { createRequire } from 'node:module';

/** sizeof(cpu_set_t) in glibc: 1024 CPUs. */
const CPU_SET_BYTES = 128;

export type PinResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

type Ffi = typeof import('ffi-rs');
let ffi: Ffi | null = null;
const LIBC = 'flextoe-affinity-libc';

function libc(): Ffi {
  if (ffi === null) {
    // Loaded on first use, on the thread that pins (the host): importing the backend must not
    // load a native module.
    ffi = createRequire(import.meta.url)('ffi-rs') as Ffi;
    ffi.open({ library: LIBC, path: '' }); // dlopen(NULL): the process's symbols, libc's among them
  }
  return ffi;
}

/** Pins thread `tid` to `cpus`. */
export function pinThread(tid: number, cpus: readonly number[]): PinResult {
  if (!(tid > 0)) return { ok: false, reason: `no thread id (${tid}): /proc/thread-self unavailable` };
  if (cpus.length === 0 || cpus.some((c) => !Number.isInteger(c) || c < 0 || c >= CPU_SET_BYTES * 8))
    return { ok: false, reason: `bad CPU list ${JSON.stringify(cpus)}` };
  let f: Ffi;
  try {
    f = libc();
  } catch (e) {
    return { ok: false, reason: `ffi-rs unavailable: ${(e as Error).message}` };
  }
  const mask = Buffer.alloc(CPU_SET_BYTES);
  for (const c of cpus) mask[c >> 3]! |= 1 << (c & 7);
  const r = f.load<typeof f.DataType.I32, true>({
    library: LIBC,
    funcName: 'sched_setaffinity',
    retType: f.DataType.I32,
    paramsType: [f.DataType.I32, f.DataType.I64, f.DataType.U8Array],
    paramsValue: [tid, CPU_SET_BYTES, mask],
    errno: true,
  });
  return r.value === 0 ? { ok: true } : { ok: false, reason: `sched_setaffinity: ${r.errnoMessage}` };
}
