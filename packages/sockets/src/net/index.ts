// The net-compatible API of @flextoe/sockets.
export { Socket, type SocketConstructorOpts, type AddressInfo } from './socket.js';
export { Server, type ServerOpts, type DropArgument } from './server.js';
export { createNet, type Net } from './net.js';
export type { ConnectOptions, ListenOptions, LookupFunction } from './args.js';
export type { NetError } from './errors.js';
export type { SocketCounters } from './context.js';
export { ORPHAN_FIN_TIMEOUT_MS } from './orphan.js';
