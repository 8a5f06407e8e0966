/**
 * Errors shaped like Node's `net` errors, so code written against Node (`err.code ===
 * 'ECONNREFUSED'`, logging `err.address`/`err.port`, retry on `ETIMEDOUT`) works unchanged.
 * Three families, as in Node's lib/internal/errors.js:
 *  - system errors from a syscall: `code`, negative `errno`, `syscall`, and for
 *    connect/listen the `address`/`port` ("connect ECONNREFUSED 10.0.0.1:7");
 *  - DNS errors: `code` ENOTFOUND, `syscall` getaddrinfo, `hostname`;
 *  - Node's own `ERR_*` errors (bad arguments, misuse), thrown or emitted.
 */
import { constants as osConstants } from 'node:os';
import { inspect } from 'node:util';
import type { TcpError } from '@flextoe/core';

/** An error as Node's net reports it (every field optional, as on Node's). */
export interface NetError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
  hostname?: string;
  localAddress?: string;
  localPort?: number;
}

/** libuv's messages for the codes this layer reports (uvException's "address already in use"). */
const UV_MESSAGES: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EAFNOSUPPORT: 'address family not supported',
  ECONNABORTED: 'software caused connection abort',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'host is unreachable',
  ENETDOWN: 'network is down',
  ENETUNREACH: 'network is unreachable',
  ENOBUFS: 'no buffer space available',
  EPIPE: 'broken pipe',
  ETIMEDOUT: 'connection timed out',
};

/** libuv's errno for getaddrinfo's EAI_NONAME (Node reports it as ENOTFOUND). */
const UV_EAI_NONAME = -3008;

/** Node's `errno` for a POSIX code: libuv reports the negated errno on Linux. */
export function errnoOf(code: string): number | undefined {
  const n = (osConstants.errno as Record<string, number | undefined>)[code];
  return n === undefined ? undefined : -n;
}

function systemError(code: string, syscall: string, message: string): NetError {
  const err = new Error(message) as NetError;
  err.errno = errnoOf(code);
  err.code = code;
  err.syscall = syscall;
  return err;
}

/** Node's `ErrnoException`: "read ECONNRESET". */
export function errnoException(code: string, syscall: string, detail?: string): NetError {
  return systemError(code, syscall, `${syscall} ${code}${detail ? ` ${detail}` : ''}`);
}

/** Node's `ExceptionWithHostPort` (connect): "connect ECONNREFUSED 10.0.0.1:7". */
export function exceptionWithHostPort(
  code: string,
  syscall: string,
  address: string,
  port: number,
  extra?: string,
): NetError {
  const err = systemError(
    code,
    syscall,
    `${syscall} ${code} ${address}:${port}${extra ? ` - ${extra}` : ''}`,
  );
  err.address = address;
  err.port = port;
  return err;
}

/** Node's `UVExceptionWithHostPort` (listen): "listen EADDRINUSE: address already in use 0.0.0.0:7". */
export function uvExceptionWithHostPort(
  code: string,
  syscall: string,
  address: string,
  port: number,
  extra?: string,
): NetError {
  const uv = UV_MESSAGES[code] ?? code.toLowerCase();
  const err = systemError(
    code,
    syscall,
    `${syscall} ${code}: ${uv} ${address}:${port}${extra ? ` - ${extra}` : ''}`,
  );
  err.address = address;
  err.port = port;
  return err;
}

/** Node's DNS error: "getaddrinfo ENOTFOUND example.com". */
export function notFoundError(hostname: string, why: string): NetError {
  const err = new Error(`getaddrinfo ENOTFOUND ${hostname} (${why})`) as NetError;
  err.errno = UV_EAI_NONAME;
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  return err;
}

type ErrorClass = new (message: string) => Error;

/**
 * One of Node's own errors (`ERR_*`): the class Node uses (TypeError for bad types, RangeError
 * for out-of-range values) and the `code`, shown as `RangeError [ERR_SOCKET_BAD_PORT]: ...`.
 */
export function nodeError(code: string, message: string, Base: ErrorClass = Error): NetError {
  const err = new Base(message) as NetError;
  err.code = code;
  // Node's NodeError prints its code in the name line of the stack and in toString().
  if (typeof err.stack === 'string') err.stack = err.stack.replace(/^(\w*Error)/, `$1 [${code}]`);
  Object.defineProperty(err, 'toString', {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`;
    },
    enumerable: false,
  });
  return err;
}

/** Node's `determineSpecificType`, used in argument errors: "type number (70000)". */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return `function ${(value as { name?: string }).name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? `an instance of ${name}` : inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

export const errors = {
  badPort(name: string, port: unknown): NetError {
    return nodeError(
      'ERR_SOCKET_BAD_PORT',
      `${name} should be >= 0 and < 65536. Received ${describeValue(port)}.`,
      RangeError,
    );
  },
  invalidArgType(name: string, expected: string, value: unknown): NetError {
    return nodeError(
      'ERR_INVALID_ARG_TYPE',
      // Node says "property" for a dotted name (options.port), "argument" otherwise.
      `The "${name}" ${name.includes('.') ? 'property' : 'argument'} must be ${expected}. Received ${describeValue(value)}`,
      TypeError,
    );
  },
  invalidArgValue(name: string, value: unknown, reason: string): NetError {
    return nodeError(
      'ERR_INVALID_ARG_VALUE',
      `The argument '${name}' ${reason}. Received ${inspect(value, { depth: 1 })}`,
      TypeError,
    );
  },
  invalidIpAddress(address: unknown): NetError {
    return nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String(address)}`, TypeError);
  },
  missingConnectArgs(): NetError {
    return nodeError(
      'ERR_MISSING_ARGS',
      'The "options" or "port" or "path" argument must be specified',
      TypeError,
    );
  },
  outOfRange(name: string, range: string, value: unknown): NetError {
    return nodeError(
      'ERR_OUT_OF_RANGE',
      `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`,
      RangeError,
    );
  },
  socketClosed(): NetError {
    return nodeError('ERR_SOCKET_CLOSED', 'Socket is closed');
  },
  serverAlreadyListen(): NetError {
    return nodeError(
      'ERR_SERVER_ALREADY_LISTEN',
      'Listen method has been called more than once without closing.',
    );
  },
  serverNotRunning(): NetError {
    return nodeError('ERR_SERVER_NOT_RUNNING', 'Server is not running.');
  },
  /** What Node reports for a Unix-domain path or an inherited handle: unsupported here, said plainly. */
  notTcp(what: string): NetError {
    return nodeError(
      'ERR_INVALID_ARG_VALUE',
      `${what} is not supported: a FlexTOE stack carries TCP over IPv4 only (pass a port and an IPv4 host)`,
      TypeError,
    );
  },
  /** A write after the peer's FIN on a socket that does not allow half-open (Node's writeAfterFIN). */
  writeAfterFin(): NetError {
    const err = new Error('This socket has been ended by the other party') as NetError;
    err.code = 'EPIPE';
    return err;
  },
};

/** The address a core error names, for the Node error's host:port. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * Maps the core's `TcpError` (what the control plane reports in `onClose`) onto Node's error for
 * the same event: a failed handshake is a `connect` error with the peer's address, a connection
 * lost later is a `read` error (Node learns of both from a failed read). The core error rides
 * along as `cause` for the control plane's wording.
 */
export function fromTcpError(err: TcpError, duringConnect: boolean, remote: Endpoint): NetError {
  const out = duringConnect
    ? exceptionWithHostPort(err.code, 'connect', remote.address, remote.port)
    : errnoException(err.code, 'read');
  Object.defineProperty(out, 'cause', { value: err, enumerable: false, configurable: true, writable: true });
  return out;
}
