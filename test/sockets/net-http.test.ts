// Node's own http.Server and http.request run unchanged on stack.net: the server gets its
// sockets through 'connection', the client through createConnection. (The body-size, chunked
// and keep-alive matrix lives in the HTTP app tests; this proves the socket contract.)
import * as http from 'node:http';
import { expect } from 'chai';
import { backendAvailability, pattern, stackPair, within, type StackPair } from './net-kit.js';

const backends = (await backendAvailability()).filter((b) => b.usable);

function request(
  pair: StackPair,
  port: number,
  options: http.RequestOptions,
  body?: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...options,
        host: '10.0.0.1',
        port,
        createConnection: () => pair.b.net.connect(port, '10.0.0.1') as never,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

for (const b of backends) {
  describe(`Node's http on stack.net (${b.name})`, function () {
    this.timeout(60_000);
    let pair: StackPair;
    let httpServer: http.Server;
    beforeEach(async () => {
      pair = await stackPair(b.name, { config: { stack: { rxBufferBytes: 65536, txBufferBytes: 65536 } } });
      httpServer = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          if (req.url === '/big') {
            const big = pattern(Number(req.headers['x-size']), 21);
            res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
            res.end(big);
            return;
          }
          res.setHeader('x-remote', `${req.socket.remoteAddress}:${req.socket.remotePort}`);
          res.end(`${req.method} ${req.url} ${body.length} ${body.subarray(0, 16).toString('hex')}`);
        });
      });
      const flexServer = pair.a.net.createServer((s) => httpServer.emit('connection', s));
      flexServer.listen(80);
      await new Promise((r) => flexServer.once('listening', r));
    });
    afterEach(async () => {
      await pair.close();
    });

    it('serves a GET and a POST with a body to http.request over createConnection', async () => {
      const get = await within(request(pair, 80, { path: '/hello' }), 20_000, 'GET');
      expect(get.status).to.equal(200);
      expect(get.body.toString()).to.equal('GET /hello 0 ');
      expect(get.headers['x-remote']).to.match(/^10\.0\.0\.2:\d+$/);
      const body = pattern(300_000, 4);
      const post = await within(request(pair, 80, { path: '/up', method: 'POST' }, body), 20_000, 'POST');
      expect(post.body.toString()).to.equal(
        `POST /up ${body.length} ${body.subarray(0, 16).toString('hex')}`,
      );
    });

    it('streams a 4 MiB response intact (the server writes past the socket high-water mark)', async () => {
      const size = 4 << 20;
      const res = await within(
        request(pair, 80, { path: '/big', headers: { 'x-size': String(size) } }),
        30_000,
        'big',
      );
      expect(res.body.length).to.equal(size);
      expect(res.body.equals(pattern(size, 21))).to.equal(true);
    });

    it('keeps a connection alive for several requests (one socket, sequential requests)', async () => {
      const socket = pair.b.net.connect(80, '10.0.0.1');
      const agentless = (path: string) =>
        new Promise<string>((resolve, reject) => {
          const req = http.request(
            {
              host: '10.0.0.1',
              port: 80,
              path,
              headers: { connection: 'keep-alive' },
              createConnection: () => socket as never,
            },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString()));
              res.on('end', () => resolve(text));
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect(await within(agentless('/1'), 20_000, 'first')).to.equal('GET /1 0 ');
      expect(await within(agentless('/2'), 20_000, 'second')).to.equal('GET /2 0 ');
      expect(pair.a.stats().sockets.accepted).to.equal(1);
      socket.destroy();
    });
  });
}
