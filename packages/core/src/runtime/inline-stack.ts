/**
 * A `BackendStack` around the inline runner's `TcpStack`: every stage run to completion on the
 * calling thread, driven by the event loop (`TcpStack.start`). The x86 backend's
 * run-to-completion placement uses it; `stackOptionsFromConfig` maps a resolved configuration
 * onto the stack's options for every backend.
 */
import type { BackendName, FlexToeConfig } from '../config/schema.js';
import type { Listener } from '../control/control-plane.js';
import type { Connection, ConnectionHandlers } from './connection.js';
import type { BackendStack } from './stack-api.js';
import type { StackStats, TcpStack, TcpStackOptions } from './tcp-stack.js';

/** The stack options a configuration asks for; `port.ip` (and `gateway`) give the address. */
export function stackOptionsFromConfig(config: FlexToeConfig): TcpStackOptions {
  const port = config.port;
  if (port.ip === undefined) {
    throw new RangeError(
      `port.ip is missing: a ${port.driver} port needs an address with prefix, like 10.0.0.1/24`,
    );
  }
  const s = config.stack;
  return {
    ip: port.ip,
    ...('gateway' in port && port.gateway !== undefined ? { gateway: port.gateway } : {}),
    mss: s.mss,
    flowGroups: s.flowGroups,
    cc: s.cc,
    rxBufferBytes: s.rxBufferBytes,
    txBufferBytes: s.txBufferBytes,
    delayedAck: s.delayedAck,
    oooIntervals: s.oooIntervals,
    windowScale: s.windowScale,
    maxFlows: s.maxFlows,
  };
}

export class InlineStack implements BackendStack {
  private closing: Promise<void> | null = null;

  constructor(
    readonly stack: TcpStack,
    readonly backend: BackendName,
    readonly timeBase: 'wall' | 'modelled',
    /** Releases what the backend opened for this stack (ports, devices). */
    private readonly release: () => void | Promise<void>,
  ) {
    stack.start();
  }

  get localIp(): number {
    return this.stack.localIp;
  }

  listen(port: number, onConnection: (c: Connection) => void, backlog?: number): Listener {
    return this.stack.listen(port, onConnection, backlog);
  }

  unlisten(listener: Listener): void {
    this.stack.unlisten(listener);
  }

  connect(
    remoteIp: string | number,
    remotePort: number,
    handlers?: ConnectionHandlers,
    localPort?: number,
  ): Connection {
    return this.stack.connect(remoteIp, remotePort, handlers, localPort);
  }

  stats(): StackStats {
    return this.stack.stats();
  }

  kick(): void {
    this.stack.kick();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stack.close();
      await this.release();
    })();
    return this.closing;
  }
}
