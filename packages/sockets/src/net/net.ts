/**
 * `stack.net`: the `net` module bound to one stack. Same functions, same argument forms, same
 * classes (`new stack.net.Socket()`, `stack.net.Server`) as Node's `net`, so code written as
 * `(net) => net.createServer(...)` runs unchanged on either.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { normalizeArgs, type ConnectOptions } from './args.js';
import { kContext, kSocketClass, type NetContext } from './context.js';
import { errors } from './errors.js';
import { Server, type ServerOpts } from './server.js';
import { Socket, type SocketConstructorOpts } from './socket.js';

export interface Net {
  createServer(connectionListener?: (socket: Socket) => void): Server;
  createServer(options?: ServerOpts, connectionListener?: (socket: Socket) => void): Server;
  connect(options: ConnectOptions, connectionListener?: () => void): Socket;
  connect(port: number | string, host?: string, connectionListener?: () => void): Socket;
  connect(port: number | string, connectionListener?: () => void): Socket;
  createConnection(options: ConnectOptions, connectionListener?: () => void): Socket;
  createConnection(port: number | string, host?: string, connectionListener?: () => void): Socket;
  createConnection(port: number | string, connectionListener?: () => void): Socket;
  /** `new stack.net.Socket(options)`: an unconnected socket of this stack. */
  readonly Socket: new (options?: SocketConstructorOpts) => Socket;
  /** Node's legacy alias of Socket. */
  readonly Stream: new (options?: SocketConstructorOpts) => Socket;
  readonly Server: new (
    options?: ServerOpts | ((socket: Socket) => void),
    connectionListener?: (socket: Socket) => void,
  ) => Server;
  readonly isIP: typeof isIP;
  readonly isIPv4: typeof isIPv4;
  readonly isIPv6: typeof isIPv6;
}

export function createNet(ctx: NetContext): Net {
  class StackSocket extends Socket {
    constructor(options: SocketConstructorOpts = {}) {
      if (options === null || typeof options !== 'object')
        throw errors.invalidArgType('options', 'of type object', options);
      super({ ...options, [kContext]: ctx } as SocketConstructorOpts);
    }
  }
  class StackServer extends Server {
    constructor(
      options?: ServerOpts | ((socket: Socket) => void),
      connectionListener?: (socket: Socket) => void,
    ) {
      let opts = options;
      let listener = connectionListener;
      if (typeof opts === 'function') {
        listener = opts;
        opts = undefined;
      } else if (opts !== undefined && (opts === null || typeof opts !== 'object')) {
        throw errors.invalidArgType('options', 'of type object', opts);
      }
      super({ ...opts, [kContext]: ctx, [kSocketClass]: StackSocket } as ServerOpts, listener);
    }
  }
  Object.defineProperty(StackSocket, 'name', { value: 'Socket' });
  Object.defineProperty(StackServer, 'name', { value: 'Server' });

  /** Node's net.connect: a Socket built from the options, `timeout` applied, then connect(). */
  function connect(...args: unknown[]): Socket {
    const [options] = normalizeArgs<ConnectOptions>(args);
    const socket = new StackSocket(options as SocketConstructorOpts);
    if (options.timeout) socket.setTimeout(options.timeout);
    return (socket.connect as (...a: unknown[]) => Socket)(...args);
  }

  return {
    createServer: (options?: unknown, listener?: unknown) =>
      new StackServer(options as ServerOpts, listener as (socket: Socket) => void),
    connect: connect as Net['connect'],
    createConnection: connect as Net['createConnection'],
    Socket: StackSocket,
    Stream: StackSocket,
    Server: StackServer,
    isIP,
    isIPv4,
    isIPv6,
  };
}
