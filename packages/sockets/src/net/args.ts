/**
 * Argument forms of Node's `net`, normalized the way Node 20's lib/net.js does
 * (`normalizeArgs`, `validatePort`, `toNumber`, `isPipeName`), so every call a Node program
 * makes means the same here: `(port[, host][, cb])`, `(options[, cb])`, `(path[, cb])`.
 */
import { isIPv4 } from 'node:net';
import { errors } from './errors.js';

/** What `connect()` / `createConnection()` accept in their options form. */
export interface ConnectOptions {
  port?: number | string;
  host?: string;
  localAddress?: string;
  localPort?: number;
  /** Only 0 or 4 (IPv4) are meaningful: the stack has one IPv4 address. */
  family?: number;
  /** Like Node's: resolves `host` when it is not an IPv4 literal (the stack has no resolver). */
  lookup?: LookupFunction;
  /** Idle timeout in ms, as `socket.setTimeout(timeout)` right after creation. */
  timeout?: number;
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  signal?: AbortSignal;
  /** Unix-domain sockets: refused (TCP only). */
  path?: string;
  /** Accepted and ignored, as by Node for IPv4 literals. */
  hints?: number;
  autoSelectFamily?: boolean;
  autoSelectFamilyAttemptTimeout?: number;
}

export type LookupFunction = (
  hostname: string,
  options: { family: number; all?: false },
  callback: (err: Error | null, address: string, family?: number) => void,
) => void;

/** What `listen()` accepts in its options form (Node 20's ListenOptions). */
export interface ListenOptions {
  port?: number | string | null;
  host?: string;
  backlog?: number;
  exclusive?: boolean;
  ipv6Only?: boolean;
  reusePort?: boolean;
  signal?: AbortSignal;
  path?: string;
  fd?: number;
  handle?: unknown;
}

/** Node's `toNumber`: a non-negative number, else false. */
export function toNumber(x: unknown): number | false {
  const n = Number(x);
  return n >= 0 ? n : false;
}

/** Node's `isPipeName`: a string that is not a number names a Unix-domain socket. */
export function isPipeName(s: unknown): s is string {
  return typeof s === 'string' && toNumber(s) === false;
}

/**
 * Node's `validatePort` (lib/internal/validators.js): a number or numeric string, integral,
 * 0..65535. Throws RangeError ERR_SOCKET_BAD_PORT like Node.
 */
export function validatePort(port: unknown, name = 'Port'): number {
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff
  ) {
    throw errors.badPort(name, port);
  }
  return +port;
}

export type Callback = (...args: never[]) => unknown;

/** Node's `normalizeArgs`: `[options, cb | null]`. */
export function normalizeArgs<O extends object>(args: readonly unknown[]): [O, Callback | null] {
  if (args.length === 0) return [{} as O, null];
  const arg0 = args[0];
  let options: Record<string, unknown> = {};
  if (typeof arg0 === 'object' && arg0 !== null) {
    options = arg0 as Record<string, unknown>; // (options[...][, cb])
  } else if (isPipeName(arg0)) {
    options.path = arg0; // (path[...][, cb])
  } else {
    options.port = arg0; // ([port][, host][...][, cb])
    if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  }
  const cb = args[args.length - 1];
  return [options as O, typeof cb === 'function' ? (cb as Callback) : null];
}

/** The validated target of a `connect()` call (Node 20's checks in Socket.connect / lookupAndConnect). */
export interface ConnectTarget {
  readonly port: number;
  /** As given (or 'localhost' when omitted, like Node). */
  readonly host: string;
  readonly localAddress: string | undefined;
  readonly localPort: number;
  readonly lookup: LookupFunction | undefined;
}

export function validateConnect(options: ConnectOptions): ConnectTarget {
  if (options.path != null) throw errors.notTcp(`connect({ path: ${JSON.stringify(options.path)} })`);
  if (options.port === undefined) throw errors.missingConnectArgs();
  const { localAddress, localPort } = options;
  if (localAddress && !isIPv4(localAddress)) throw errors.invalidIpAddress(localAddress);
  if (localPort !== undefined && localPort !== null && localPort !== 0) {
    if (typeof localPort !== 'number')
      throw errors.invalidArgType('options.localPort', 'of type number', localPort);
    validatePort(localPort, 'options.localPort');
  }
  const port = options.port;
  if (typeof port !== 'number' && typeof port !== 'string')
    throw errors.invalidArgType('options.port', 'one of type number or string', port);
  validatePort(port);
  const host = options.host || 'localhost';
  if (typeof host !== 'string') throw errors.invalidArgType('hostname', 'of type string', host);
  if (options.lookup !== undefined && typeof options.lookup !== 'function')
    throw errors.invalidArgType('options.lookup', 'of type function', options.lookup);
  if (options.family !== undefined && options.family !== 0 && options.family !== 4 && options.family !== 6)
    throw errors.invalidArgValue('options.family', options.family, 'must be one of: 0, 4, 6');
  return {
    port: +port | 0,
    host,
    localAddress: localAddress || undefined,
    localPort: localPort ? Number(localPort) : 0,
    lookup: options.lookup,
  };
}

/** The validated request of a `listen()` call. */
export interface ListenRequest {
  /** 0 = pick an ephemeral port. */
  readonly port: number;
  readonly host: string | undefined;
  readonly backlog: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly cb: Callback | null;
}

/**
 * Node 20's Server.prototype.listen argument handling: `listen()`, `listen(cb)`,
 * `listen(port[, host][, backlog][, cb])`, `listen(options[, cb])`; a pipe path, an fd or a
 * handle are refused (TCP only); a bad port throws ERR_SOCKET_BAD_PORT.
 */
export function validateListen(args: readonly unknown[]): ListenRequest {
  const [normalized, cb] = normalizeArgs<ListenOptions>(args);
  const options: ListenOptions = { ...normalized };
  // (port, backlog) or (port, host, backlog), as Node reads them.
  const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
  if (options.handle !== undefined || (typeof options.fd === 'number' && options.fd >= 0))
    throw errors.notTcp('listen on an inherited handle or fd');
  if (
    args.length === 0 ||
    typeof args[0] === 'function' ||
    (options.port === undefined && 'port' in options) ||
    options.port === null
  ) {
    options.port = 0;
  }
  if (typeof options.port === 'number' || typeof options.port === 'string') {
    const port = validatePort(options.port, 'options.port');
    const backlog = options.backlog || backlogFromArgs || undefined;
    if (backlog !== undefined && !(Number.isInteger(backlog) && backlog >= 0))
      throw errors.outOfRange('backlog', 'an integer >= 0', backlog);
    if (options.signal !== undefined && !isAbortSignal(options.signal))
      throw errors.invalidArgType('options.signal', 'an instance of AbortSignal', options.signal);
    if (options.host !== undefined && options.host !== null && typeof options.host !== 'string')
      throw errors.invalidArgType('options.host', 'of type string', options.host);
    return { port, host: options.host || undefined, backlog, signal: options.signal, cb };
  }
  if (options.path !== undefined && isPipeName(options.path))
    throw errors.notTcp(`listen on a pipe path (${JSON.stringify(options.path)})`);
  if (!('port' in options || 'path' in options))
    throw errors.invalidArgValue('options', normalized, 'must have the property "port" or "path"');
  throw errors.invalidArgValue('options', normalized, 'is invalid');
}

function isAbortSignal(s: unknown): s is AbortSignal {
  return (
    typeof s === 'object' &&
    s !== null &&
    'aborted' in s &&
    typeof (s as AbortSignal).addEventListener === 'function'
  );
}

/** Node's getTimerDuration for setTimeout(msecs): a finite number >= 0. */
export function validateTimeout(msecs: unknown): number {
  if (typeof msecs !== 'number') throw errors.invalidArgType('msecs', 'of type number', msecs);
  if (!(msecs >= 0) || !Number.isFinite(msecs))
    throw errors.outOfRange('msecs', 'a non-negative finite number', msecs);
  // Node clamps delays above TIMEOUT_MAX (2^31-1 ms) to 1 ms with a warning; we clamp to the max.
  return Math.min(msecs, 2 ** 31 - 1);
}

/** 'a.b.c.d' -> u32 (the caller checked isIPv4). */
export function ipv4ToU32(ip: string): number {
  const p = ip.split('.');
  return ((+p[0]! << 24) | (+p[1]! << 16) | (+p[2]! << 8) | +p[3]!) >>> 0;
}

export function u32ToIpv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}
