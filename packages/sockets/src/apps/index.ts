// Applications on any `net`-like module: echo, HTTP (Node's http.Server), memcached-protocol KV.
export {
  listenServer,
  portOf,
  closeServer,
  type NetLike,
  type AppServer,
  type AppSocket,
} from './net-like.js';
export { serveEcho, createEchoServer } from './echo.js';
export { createHttpServer, createHttpHandler, type HttpApp, type HttpAppOptions } from './http.js';
export { patternChunks, patternSha256, PATTERN_BLOCK_BYTES } from './pattern.js';
export * from './kv/index.js';
