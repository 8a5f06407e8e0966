/**
 * A Linux TAP device as a `NicPort`: /dev/net/tun opened non-blocking, attached to an
 * interface with ioctl(TUNSETIFF, IFF_TAP | IFF_NO_PI), so every read(2) returns one Ethernet
 * frame the kernel sent and every write(2) hands the kernel one frame it receives.
 *
 * Receive, per frame: `fs.readSync` straight into the caller's packet buffer (no copy, no
 * allocation, measured). Reads stop at the first EAGAIN, and after one the port does not read
 * again until the readiness thread (readiness-worker.ts, blocked in poll(2)) has seen a frame,
 * so an idle or transmit-only poll round costs no syscall.
 *
 * Transmit: `txBurst` copies frames into a shared ring and a writer thread writes them
 * (tx-writer-worker.ts). A write to a TAP runs the kernel's receive path for the frame in the
 * writing thread, and Node allocates ~60 B per `fs.writeSync`; both stay off the stack's
 * thread (ffi-rs would cost ~400 B and 5x the time per call, see libc.ts). A full ring refuses
 * the rest of a burst, like a NIC's TX ring.
 *
 * The device: without TUNSETPERSIST the interface lives as long as this fd, so closing the port
 * removes an interface the port created; a persistent TAP made beforehand (`ip tuntap add`) is
 * attached to and left in place. The fd stays valid when the interface is moved to another
 * network namespace (`ip link set <if> netns <ns>`), which is how the interop tests put the
 * Linux peer on the other side.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import type {
  Clock,
  NicPort,
  PacketBuffer,
  PortCapabilities,
  PortConfiguration,
  PortStats,
} from '@flextoe/core';
import {
  IFF_NO_PI,
  IFF_TAP,
  IFF_UP,
  MAX_IFNAME_BYTES,
  SIOCGIFFLAGS,
  SIOCSIFFLAGS,
  TUNSETIFF,
  controlSocket,
  ifreq,
  ioctl,
} from './libc.js';
import { TapReadiness } from './readiness.js';
import { TapTxWriter } from './tx-writer.js';

export interface TapPortOptions {
  /** Interface name, at most 15 bytes; created when it does not exist. */
  readonly ifname: string;
  /** Our (the stack's) MAC as a 48-bit number; a random locally administered one when omitted. */
  readonly mac?: number;
  /** Time base for receive timestamps. */
  readonly clock: Clock;
  /** Clone device path; tests point it elsewhere to check the error (default /dev/net/tun). */
  readonly tunPath?: string;
}

/** Ethernet header + 1500 B payload + one 802.1Q tag: the largest frame a default-MTU TAP carries. */
export const TAP_MAX_FRAME_BYTES = 1518;
const ETHERNET_HEADER_BYTES = 14;
const TAP_BURST = 64;

/** A TAP port failed to open: the message names the device and what to do. */
export class TapError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TapError';
  }
}

/** Rejects names the kernel would reject, with a message that says why (IFNAMSIZ, dev_valid_name). */
export function checkIfname(ifname: string): void {
  if (typeof ifname !== 'string' || ifname.length === 0)
    throw new TapError('tap: ifname must be a non-empty interface name, like ftap0', 'EINVAL');
  if (Buffer.byteLength(ifname) > MAX_IFNAME_BYTES)
    throw new TapError(
      `tap: ifname "${ifname}" is ${Buffer.byteLength(ifname)} bytes but Linux allows at most ${MAX_IFNAME_BYTES}`,
      'EINVAL',
    );
  // net/core/dev.c dev_valid_name: no '/', ':' or whitespace, and not "." or "..".
  if (/[/:\s]/.test(ifname) || ifname === '.' || ifname === '..' || /[^\x21-\x7e]/.test(ifname))
    throw new TapError(
      `tap: ifname "${ifname}" is not a valid interface name (no '/', ':', spaces or non-ASCII)`,
      'EINVAL',
    );
}

/** A random locally administered unicast MAC (IEEE 802: bit 1 of the first octet set, bit 0 clear). */
export function randomLocalMac(): number {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return b.readUIntBE(0, 6);
}

export class TapPort implements NicPort {
  readonly capabilities: PortCapabilities = Object.freeze({
    driver: 'tap',
    maxFrameBytes: TAP_MAX_FRAME_BYTES,
    maxBurst: TAP_BURST,
    rxChecksumOffload: false,
    txChecksumOffload: false,
    // A TAP has no line rate; the kernel's queue is the limit.
    linkGbps: Infinity,
  });
  readonly ifname: string;
  private macAddr: number;
  private readonly clock: Clock;
  private fd: number;
  private readonly readiness: TapReadiness;
  private readonly writer: TapTxWriter;
  private wakeup: (() => void) | null = null;
  private started = false;
  private maxTxFrame = TAP_MAX_FRAME_BYTES;

  private rxPackets = 0;
  private rxBytes = 0;
  private txPackets = 0;
  private txBytes = 0;
  private dropRxError = 0;
  private dropRxBufferTooSmall = 0;
  private dropTxError = 0;
  private dropTxRunt = 0;
  private dropTxOversize = 0;
  private dropLinkDown = 0;
  private lastIoError = '';

  private readonly onWake = (): void => {
    if (this.started) this.wakeup?.();
  };

  constructor(opts: TapPortOptions) {
    checkIfname(opts.ifname);
    this.clock = opts.clock;
    this.macAddr = opts.mac ?? randomLocalMac();
    const path = opts.tunPath ?? '/dev/net/tun';
    this.fd = openTun(path);
    try {
      this.ifname = attach(this.fd, path, opts.ifname);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    this.readiness = new TapReadiness(this.fd, this.onWake);
    this.writer = new TapTxWriter(this.fd);
  }

  get mac(): number {
    return this.macAddr;
  }

  /**
   * What went wrong last, for a reader of `stats()` drops: an unexpected read or write error, or
   * a helper thread that failed (the port then reads on every burst and polls every
   * millisecond, or writes on the stack's thread). Empty when nothing did.
   */
  get lastError(): string {
    return [this.readiness.failure, this.writer.failure, this.lastIoError].filter((e) => e).join('; ');
  }

  configure(conf: PortConfiguration): void {
    if (!(
      Number.isInteger(conf.mtu) &&
      conf.mtu >= 68 &&
      conf.mtu + ETHERNET_HEADER_BYTES + 4 <= TAP_MAX_FRAME_BYTES
    ))
      throw new RangeError(`tap: mtu ${conf.mtu} does not fit the TAP's ${TAP_MAX_FRAME_BYTES} B frames`);
    this.macAddr = conf.mac;
    this.maxTxFrame = conf.mtu + ETHERNET_HEADER_BYTES + 4;
  }

  /** Brings the interface up if it is still in our network namespace (a moved one is the peer's to manage). */
  async start(): Promise<void> {
    if (this.fd < 0) throw new Error(`tap ${this.ifname}: port is closed`);
    setLinkUp(this.ifname);
    // Wakeups from the first frame on: the readiness thread must be polling.
    await this.readiness.ready();
    await this.writer.ready();
    this.started = true;
    if (this.wakeup) {
      this.readiness.ref();
      this.readiness.arm();
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    this.readiness.unref();
  }

  /** Stops both threads and closes the fd (which deletes a non-persistent TAP); idempotent. */
  async close(): Promise<void> {
    if (this.fd < 0) return;
    this.started = false;
    await Promise.all([this.readiness.stop(), this.writer.stop()]);
    closeSync(this.fd);
    this.fd = -1;
  }

  stats(): PortStats {
    return {
      rxPackets: this.rxPackets,
      rxBytes: this.rxBytes,
      txPackets: this.txPackets,
      txBytes: this.txBytes,
      drops: {
        'rx-error': this.dropRxError,
        'rx-buffer-too-small': this.dropRxBufferTooSmall,
        'tx-error': this.dropTxError + this.writer.writeErrors,
        'tx-runt': this.dropTxRunt,
        'tx-oversize': this.dropTxOversize,
        'link-down': this.dropLinkDown + this.writer.linkDownDrops,
      },
    };
  }

  setRxWakeup(wakeup: (() => void) | null): void {
    this.wakeup = wakeup;
    if (wakeup === null) {
      this.readiness.unref();
      return;
    }
    if (this.started) {
      this.readiness.ref();
      this.readiness.arm();
    }
  }

  rxBurst(bufs: PacketBuffer[], max: number): number {
    if (!this.started || !this.readiness.readable) return 0;
    const n = Math.min(max, bufs.length);
    const fd = this.fd;
    let got = 0;
    let now = -1;
    while (got < n) {
      const b = bufs[got]!;
      let len: number;
      try {
        len = readSync(fd, b.data, 0, b.data.length, -1);
      } catch (e) {
        if (this.rxFailed(e as NodeJS.ErrnoException)) break;
        continue;
      }
      if (now < 0) now = this.clock.now();
      b.length = len;
      b.timestampNs = now;
      this.rxPackets++;
      this.rxBytes += len;
      got++;
    }
    return got;
  }

  txBurst(bufs: PacketBuffer[], count: number): number {
    if (!this.started) return 0;
    const n = Math.min(count, bufs.length);
    if (this.writer.failure !== null) return this.writeDirect(bufs, n);
    const writer = this.writer;
    let i = 0;
    for (; i < n; i++) {
      const b = bufs[i]!;
      if (b.length < ETHERNET_HEADER_BYTES) {
        this.dropTxRunt++;
        continue;
      }
      if (b.length > this.maxTxFrame || b.length > b.data.length) {
        this.dropTxOversize++;
        continue;
      }
      if (!writer.push(b)) break; // ring full: the caller has the rest
      this.txPackets++;
      this.txBytes += b.length;
    }
    writer.publish();
    return i;
  }

  /** Frames queued for the writer thread and not yet written. */
  get txQueued(): number {
    return this.writer.queued;
  }

  /** Without the writer thread (it failed): write on this thread, as Node lets us. */
  private writeDirect(bufs: PacketBuffer[], n: number): number {
    for (let i = 0; i < n; i++) {
      const b = bufs[i]!;
      if (b.length < ETHERNET_HEADER_BYTES || b.length > this.maxTxFrame || b.length > b.data.length) {
        this.dropTxOversize++;
        continue;
      }
      try {
        writeSync(this.fd, b.data, 0, b.length, null);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EAGAIN') return i;
        if (err.code === 'EIO') this.dropLinkDown++;
        else {
          this.dropTxError++;
          this.lastIoError = `write: ${err.message}`;
        }
        continue;
      }
      this.txPackets++;
      this.txBytes += b.length;
    }
    return n;
  }

  /** Handles a failed read; returns true when the burst should end. */
  private rxFailed(err: NodeJS.ErrnoException): boolean {
    switch (err.code) {
      case 'EAGAIN':
        this.readiness.idle();
        return true;
      case 'EFAULT':
        // tun refuses (and drops) a frame longer than the buffer offered.
        this.dropRxBufferTooSmall++;
        return false;
      default:
        this.dropRxError++;
        this.lastIoError = `read: ${err.message}`;
        this.readiness.idle();
        return true;
    }
  }
}

function openTun(path: string): number {
  try {
    // libuv adds O_CLOEXEC to every open.
    return openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT')
      throw new TapError(
        `tap: ${path} does not exist: this kernel has no TUN/TAP support loaded (modprobe tun) or the container has no /dev/net/tun`,
        'ENOENT',
      );
    if (err.code === 'EACCES' || err.code === 'EPERM')
      throw new TapError(
        `tap: cannot open ${path}: ${err.code} (creating a TAP needs root or CAP_NET_ADMIN)`,
        err.code,
      );
    throw new TapError(`tap: cannot open ${path}: ${err.message}`, err.code ?? 'EIO');
  }
}

/** TUNSETIFF: creates the TAP (or attaches to an existing one); returns the name the kernel used. */
function attach(fd: number, path: string, ifname: string): string {
  const req = ifreq(ifname, IFF_TAP | IFF_NO_PI);
  const r = ioctl(fd, TUNSETIFF, req);
  if (r.value >= 0) return req.toString('latin1', 0, req.indexOf(0) < 0 ? 16 : req.indexOf(0));
  switch (r.errno) {
    case 1: // EPERM
      throw new TapError(
        `tap: TUNSETIFF ${ifname} on ${path}: operation not permitted (creating a TAP needs root or CAP_NET_ADMIN)`,
        'EPERM',
      );
    case 16: // EBUSY: a TAP of that name is attached to another fd.
      throw new TapError(`tap: interface ${ifname} exists and is already in use by another process`, 'EBUSY');
    case 22: // EINVAL: a device of that name exists and is not a TAP (or the name was refused).
      throw new TapError(
        `tap: cannot attach to ${ifname}: an interface of that name exists and is not a TAP, or the name is invalid`,
        'EINVAL',
      );
    default:
      throw new TapError(`tap: TUNSETIFF ${ifname} failed: ${r.message}`, `E${r.errno}`);
  }
}

/**
 * Sets IFF_UP (DPDK's net_tap does the same on dev_start). An interface no longer in our
 * network namespace (moved to a peer's) is not found here and is left alone.
 */
function setLinkUp(ifname: string): void {
  const s = controlSocket();
  if (s.value < 0) return;
  try {
    const req = ifreq(ifname);
    if (ioctl(s.value, SIOCGIFFLAGS, req).value < 0) return;
    const flags = req.readUInt16LE(16);
    if (flags & IFF_UP) return;
    req.writeUInt16LE(flags | IFF_UP, 16);
    ioctl(s.value, SIOCSIFFLAGS, req);
  } finally {
    closeSync(s.value);
  }
}
