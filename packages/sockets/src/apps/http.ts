/**
 * The HTTP example: Node's own `http.Server`, fed the connections of any `net`-like server
 * (`netServer.on('connection', s => httpServer.emit('connection', s))`), so Node's HTTP/1.1
 * parser, keep-alive and chunked encoding run unchanged on a FlexTOE stack.
 *
 *   GET  /                         what this server offers
 *   GET  /bytes/N[?chunked=1&seed=S]  N deterministic bytes (patternChunks(S, N)), Content-Length
 *                                  or Transfer-Encoding: chunked
 *   POST /echo                     the request body back (same length, or chunked)
 *   POST /sha256                   {"bytes": n, "sha256": "..."} of the request body
 *   GET  /stats                    the stack's counters as JSON (when the server has a stack)
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AppServer, NetLike } from './net-like.js';
import { patternChunks } from './pattern.js';

export interface HttpAppOptions {
  /** Largest /bytes/N served; default 1 GiB. */
  maxBytes?: number;
  /** What GET /stats returns (e.g. `() => stack.stats()`); 404 without it. */
  stats?: () => unknown;
  /** Named in the index page, e.g. 'x86 on virtual 10.0.0.1'. */
  description?: string;
}

export interface HttpApp {
  /** The `net` server that accepts connections: `listen` it. */
  readonly server: AppServer;
  /** Node's HTTP server that parses them. */
  readonly http: http.Server;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

const BYTES_PATH = /^\/bytes\/(\d{1,12})$/;

export function createHttpHandler(options: HttpAppOptions = {}): http.RequestListener {
  const maxBytes = options.maxBytes ?? 1024 ** 3;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const fail = (status: number, message: string, allow?: string) => {
      req.resume(); // an unread body would stall the connection
      res.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        ...(allow !== undefined ? { allow } : {}),
      });
      res.end(`${message}\n`);
    };
    const bytes = BYTES_PATH.exec(url.pathname);
    if (bytes) {
      if (method !== 'GET' && method !== 'HEAD') return fail(405, 'use GET', 'GET, HEAD');
      const length = Number(bytes[1]);
      const seed = Number(url.searchParams.get('seed') ?? '1');
      if (length > maxBytes) return fail(413, `at most ${maxBytes} bytes per request`);
      if (!Number.isSafeInteger(seed)) return fail(400, 'seed must be an integer');
      const chunked = url.searchParams.get('chunked') === '1';
      res.setHeader('content-type', 'application/octet-stream');
      // Without a length Node sends Transfer-Encoding: chunked (HTTP/1.1 clients).
      if (!chunked) res.setHeader('content-length', length);
      if (method === 'HEAD') return res.end();
      pipeline(Readable.from(patternChunks(seed, length)), res).catch(() => res.destroy());
      return;
    }
    switch (url.pathname) {
      case '/':
        if (method !== 'GET' && method !== 'HEAD') return fail(405, 'use GET', 'GET, HEAD');
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(indexText(options.description));
      case '/echo': {
        if (method !== 'POST' && method !== 'PUT') return fail(405, 'use POST', 'POST, PUT');
        const length = req.headers['content-length'];
        res.writeHead(200, {
          'content-type': req.headers['content-type'] ?? 'application/octet-stream',
          ...(length !== undefined ? { 'content-length': length } : {}),
        });
        pipeline(req, res).catch(() => res.destroy());
        return;
      }
      case '/sha256': {
        if (method !== 'POST' && method !== 'PUT') return fail(405, 'use POST', 'POST, PUT');
        const hash = createHash('sha256');
        let n = 0;
        req.on('data', (chunk: Buffer) => {
          n += chunk.length;
          hash.update(chunk);
        });
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(`${JSON.stringify({ bytes: n, sha256: hash.digest('hex') })}\n`);
        });
        return;
      }
      case '/stats':
        if (options.stats === undefined) return fail(404, 'no stack behind this server');
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(`${JSON.stringify(options.stats(), null, 2)}\n`);
      default:
        return fail(404, `no ${url.pathname} here; GET / lists what there is`);
    }
  };
}

/** Node's HTTP server on the connections of `net.createServer()`. */
export function createHttpServer(net: NetLike, options: HttpAppOptions = {}): HttpApp {
  const httpServer = http.createServer(createHttpHandler(options));
  const server = net.createServer((socket) => {
    socket.on('error', () => {}); // a client's reset ends its connection, not the server
    httpServer.emit('connection', socket);
  });
  return {
    server,
    http: httpServer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        httpServer.closeAllConnections();
      }),
  };
}

function indexText(description: string | undefined): string {
  return `FlexTOE-TS HTTP example${description ? ` (${description})` : ''}

GET  /bytes/N[?chunked=1&seed=S]  N deterministic bytes, Content-Length or chunked
POST /echo                       the request body back
POST /sha256                     {"bytes": n, "sha256": "..."} of the request body
GET  /stats                      the stack's counters as JSON
`;
}
