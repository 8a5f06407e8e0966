/**
 * The few libc calls the TAP driver needs that Node does not offer (ioctl, poll, pipe2),
 * through ffi-rs. Only setup and idle-time calls go through here: one ffi-rs call costs
 * ~5-15 us and ~400 B of JavaScript garbage on this machine (measured), so the per-frame
 * read/write use Node's own `fs.readSync` (no allocation) and `fs.writeSync` instead.
 *
 * ffi-rs must be loaded by the main thread before any worker loads it: a worker that loads
 * it first crashes the process when it exits (napi-rs module teardown; measured with ffi-rs
 * 1.3.7 on Node 20). Importing this module does that load.
 */
import { DataType, load, open } from 'ffi-rs';

const LIBC = 'flextoe-libc';
// dlopen(NULL): the process's own symbols, which include libc's.
open({ library: LIBC, path: '' });

/** <linux/if_tun.h>: _IOW('T', 202, int). */
export const TUNSETIFF = 0x400454ca;
/** <linux/if_tun.h> interface flags. */
export const IFF_TAP = 0x0002;
export const IFF_NO_PI = 0x1000;
/** <linux/sockios.h>. */
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
/** <net/if.h>. */
export const IFF_UP = 0x1;
/** IFNAMSIZ - 1: interface names are at most 15 bytes (<net/if.h>). */
export const MAX_IFNAME_BYTES = 15;
/** sizeof(struct ifreq) on x86-64: the name (16 B) and a 24-byte union (flags are its first short). */
export const IFREQ_BYTES = 40;
/** <poll.h>. */
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
/** <fcntl.h>. */
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
/** <sys/socket.h>. */
const AF_INET = 2;
const SOCK_DGRAM = 2;

export const EINTR = 4;

export interface CallResult {
  readonly value: number;
  readonly errno: number;
  readonly message: string;
}

function call(funcName: string, paramsType: DataType[], paramsValue: unknown[]): CallResult {
  const r = load({
    library: LIBC,
    funcName,
    retType: DataType.I32,
    paramsType,
    paramsValue,
    errno: true,
  }) as unknown as { value: number; errnoCode: number; errnoMessage: string };
  return { value: r.value, errno: r.value < 0 ? r.errnoCode : 0, message: r.errnoMessage };
}

/** `struct ifreq` with the name set and the flags short. */
export function ifreq(ifname: string, flags = 0): Buffer {
  const req = Buffer.alloc(IFREQ_BYTES);
  req.write(ifname, 0, MAX_IFNAME_BYTES, 'latin1');
  req.writeInt16LE(flags, 16);
  return req;
}

/** ioctl(fd, request, &req); the kernel may write the struct back. */
export function ioctl(fd: number, request: number, req: Buffer): CallResult {
  return call('ioctl', [DataType.I32, DataType.I64, DataType.U8Array], [fd, request, req]);
}

/** A non-blocking, close-on-exec pipe: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = Buffer.alloc(8);
  const r = call('pipe2', [DataType.U8Array, DataType.I32], [fds, O_NONBLOCK | O_CLOEXEC]);
  if (r.value < 0) throw new Error(`pipe2: ${r.message}`);
  return [fds.readInt32LE(0), fds.readInt32LE(4)];
}

/** An AF_INET datagram socket for interface ioctls (SIOCGIFFLAGS...). */
export function controlSocket(): CallResult {
  return call('socket', [DataType.I32, DataType.I32, DataType.I32], [AF_INET, SOCK_DGRAM | O_CLOEXEC, 0]);
}

/** `struct pollfd` array: fd (i32), events (i16), revents (i16). */
export function pollFds(fds: readonly number[]): Buffer {
  const b = Buffer.alloc(8 * fds.length);
  fds.forEach((fd, i) => {
    b.writeInt32LE(fd, 8 * i);
    b.writeInt16LE(POLLIN, 8 * i + 4);
  });
  return b;
}

/** poll(fds, n, timeoutMs); blocks the calling thread. */
export function poll(fds: Buffer, timeoutMs: number): CallResult {
  return call('poll', [DataType.U8Array, DataType.I64, DataType.I32], [fds, fds.length / 8, timeoutMs]);
}

export function revents(fds: Buffer, index: number): number {
  return fds.readInt16LE(8 * index + 6);
}
