/**
 * Test kit for the `net` layer: which backends can build a stack today, a pair of stacks on a
 * virtual wire, the same pair shape over Node's own `net` on loopback (so one scenario runs on
 * both and the event sequences can be compared), and an event recorder.
 */
import * as nodeNet from 'node:net';
import { BACKEND_NAMES, NotImplementedError, type BackendName, type FlexToeConfigInput } from '@flextoe/core';
import {
  createStack,
  createVirtualNetwork,
  loadBackend,
  type Stack,
  type VirtualNetworkOptions,
} from '@flextoe/sockets';

/** What a scenario needs from a `net` module: Node's own or `stack.net`. */
export interface NetLike {
  createServer(listener?: (s: nodeNet.Socket) => void): nodeNet.Server;
  createServer(options?: object, listener?: (s: nodeNet.Socket) => void): nodeNet.Server;
  connect(options: object, listener?: () => void): nodeNet.Socket;
  connect(port: number, host?: string, listener?: () => void): nodeNet.Socket;
}

/** A server side and a client side that can reach it at `host`. */
export interface NetPair {
  readonly label: string;
  readonly server: NetLike;
  readonly client: NetLike;
  /** Where the client finds the server. */
  readonly host: string;
  close(): Promise<void>;
}

export interface BackendAvailability {
  readonly name: BackendName;
  /** Builds stacks today (descriptor 'implemented', or its inline runner already works). */
  readonly usable: boolean;
  readonly status: 'implemented' | 'not-implemented';
  /** Why not, when not usable. */
  readonly refusal?: Error;
}

/**
 * Every backend, and whether it can build a stack. A backend whose descriptor says
 * 'implemented' is always included (if it then fails, its tests fail). One that says
 * 'not-implemented' is probed: x86's run-to-completion runner works before its worker-thread
 * placement lands; the simulators refuse with NotImplementedError until their models land, and
 * are picked up automatically when they do.
 */
export function backendAvailability(): Promise<BackendAvailability[]> {
  // Once per process: every net test file asks, and probing builds a stack per backend.
  availability ??= probeBackends();
  return availability;
}

let availability: Promise<BackendAvailability[]> | undefined;

async function probeBackends(): Promise<BackendAvailability[]> {
  const out: BackendAvailability[] = [];
  for (const name of BACKEND_NAMES) {
    const backend = await loadBackend(name);
    const status = backend.descriptor.status;
    if (status === 'implemented') {
      out.push({ name, usable: true, status });
      continue;
    }
    const wire = createVirtualNetwork();
    try {
      const stack = await createStack({ backend: name, port: wire.attach('10.9.9.1/24') });
      await stack.close();
      out.push({ name, usable: true, status });
    } catch (e) {
      if (!(e instanceof NotImplementedError)) throw e;
      out.push({ name, usable: false, status, refusal: e });
    } finally {
      wire.close();
    }
  }
  return out;
}

export interface PairOptions {
  wire?: VirtualNetworkOptions;
  /** Extra config for both stacks (e.g. smaller buffers). */
  config?: FlexToeConfigInput;
  /** The client stack's backend (default: the server's). */
  clientBackend?: BackendName;
}

export interface StackPair extends NetPair {
  readonly a: Stack;
  readonly b: Stack;
}

/** Two stacks on a fresh wire: `a` at 10.0.0.1 serves, `b` at 10.0.0.2 connects. */
export async function stackPair(backend: BackendName, options: PairOptions = {}): Promise<StackPair> {
  const wire = createVirtualNetwork(options.wire ?? {});
  const config = options.config ?? {};
  const a = await createStack({ ...config, backend, port: wire.attach('10.0.0.1/24') });
  const b = await createStack({
    ...config,
    backend: options.clientBackend ?? backend,
    port: wire.attach('10.0.0.2/24'),
  });
  return {
    label: `${backend} stacks`,
    a,
    b,
    server: a.net as unknown as NetLike,
    client: b.net as unknown as NetLike,
    host: '10.0.0.1',
    async close() {
      await Promise.all([a.close(), b.close()]);
      wire.close();
    },
  };
}

/** Node's own net on loopback: the reference behaviour. */
export const nodePair: NetPair = {
  label: "Node's net on loopback",
  server: nodeNet as unknown as NetLike,
  client: nodeNet as unknown as NetLike,
  host: '127.0.0.1',
  async close() {},
};

/**
 * Records a socket's events as short strings ('connect', 'data', 'end', 'close:false',
 * 'error:ECONNRESET'); consecutive 'data' events collapse into one (chunking is the transport's
 * business, the sequence is the API's).
 */
export function recordEvents(
  emitter: NodeJS.EventEmitter,
  log: string[],
  prefix = '',
  events = ['connect', 'ready', 'data', 'end', 'finish', 'close', 'error', 'timeout', 'drain', 'lookup'],
): void {
  for (const name of events) {
    emitter.on(name, (arg: unknown) => {
      let entry = name;
      if (name === 'close' && arg !== undefined) entry = `close:${String(arg)}`;
      if (name === 'error') entry = `error:${(arg as { code?: string }).code ?? (arg as Error).message}`;
      if (name === 'lookup') entry = `lookup:${(arg as { code?: string } | null)?.code ?? 'ok'}`;
      entry = prefix + entry;
      if (name === 'data' && log[log.length - 1] === entry) return;
      log.push(entry);
    });
  }
}

export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve as (v: unknown) => void));
}

/** Resolves when the server listens; returns its port. */
export async function listening(server: nodeNet.Server): Promise<number> {
  if (!server.listening) await once(server, 'listening');
  return (server.address() as nodeNet.AddressInfo).port;
}

export function closeServer(server: nodeNet.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) resolve();
    else server.close(() => resolve());
  });
}

/** A deterministic byte pattern (xorshift32) for integrity checks without storing the data twice. */
export function pattern(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Rejects after `ms` with `what` in the message: a hung scenario fails with a reason, not a mocha timeout. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    }),
  ]);
}
