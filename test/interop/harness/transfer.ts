/**
 * Both ends of a byte-exact transfer: the Linux peer (peers/tcp-peer.mjs, Node's `net` on the
 * kernel's TCP inside a namespace) and our side, a `Connection` on a FlexTOE stack. Each sends a
 * seeded pattern and hashes what it receives; the test compares SHA-256 digests both ways.
 */
import type { ChildProcess } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Connection, StackApi } from '@flextoe/core';
import type { Sandbox } from './sandbox.js';

export const PEER_SCRIPT = fileURLToPath(new URL('../peers/tcp-peer.mjs', import.meta.url));

/** The seeded byte stream both sides generate: AES-128-CTR keystream, key = SHA-256(seed)[0..16). */
export function pattern(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(64 * 1024);
  return (n) => cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
}

/** SHA-256 of the first `bytes` of a seed's pattern. */
export function patternSha256(seed: string, bytes: number): string {
  const next = pattern(seed);
  const h = createHash('sha256');
  for (let done = 0; done < bytes;) {
    const chunk = next(Math.min(64 * 1024, bytes - done));
    h.update(chunk);
    done += chunk.length;
  }
  return h.digest('hex');
}

export interface TransferResult {
  readonly received: number;
  readonly receivedSha256: string;
  readonly sent: number;
  readonly sentSha256: string;
}

/** Our side's result, with what the stack contract forbids: bytes delivered after onClose. */
export interface OurResult extends TransferResult {
  readonly bytesAfterClose: number;
}

/** A running tcp-peer.mjs; `result` settles with its JSON line (or its error / exit). */
export class KernelPeer {
  readonly result: Promise<TransferResult>;
  private readonly listeningP: Promise<void>;
  private stderr = '';

  private constructor(readonly child: ChildProcess) {
    let onListening: () => void = () => {};
    let onFailure: (e: Error) => void = () => {};
    this.listeningP = new Promise<void>((resolve, reject) => {
      onListening = resolve;
      onFailure = reject;
    });
    this.listeningP.catch(() => {});
    this.result = new Promise<TransferResult>((resolve, reject) => {
      let buffered = '';
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => (this.stderr += d));
      child.stdout!.on('data', (d: string) => {
        buffered += d;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffered.slice(0, nl)) as TransferResult & {
            listening?: true;
            error?: string;
          };
          buffered = buffered.slice(nl + 1);
          if (line.listening) onListening();
          else if (line.error !== undefined) reject(new Error(`kernel peer: ${line.error}`));
          else resolve(line);
        }
      });
      child.once('close', (code, signal) => {
        const e = new Error(
          `kernel peer exited (${code ?? signal}) before finishing; stderr: ${this.stderr.trim()}`,
        );
        onFailure(e);
        reject(e);
      });
    });
    this.result.catch(() => {});
  }

  /** Starts the peer inside `sandbox`: it listens on ip:port, sends `sendBytes` of `seed`'s pattern. */
  static async listen(
    sandbox: Sandbox,
    ip: string,
    port: number,
    sendBytes: number,
    seed: string,
  ): Promise<KernelPeer> {
    const peer = new KernelPeer(
      sandbox.spawn(process.execPath, [PEER_SCRIPT, 'listen', ip, String(port), String(sendBytes), seed]),
    );
    await peer.listeningP;
    return peer;
  }

  /** Starts the peer inside `sandbox` connecting to our listener at ip:port. */
  static connect(sandbox: Sandbox, ip: string, port: number, sendBytes: number, seed: string): KernelPeer {
    return new KernelPeer(
      sandbox.spawn(process.execPath, [PEER_SCRIPT, 'connect', ip, String(port), String(sendBytes), seed]),
    );
  }
}

/**
 * Our side of an exchange on an open (or opening) connection: sends `sendBytes` of `seed`'s
 * pattern as the TX ring frees, half-closes, reads and hashes until the peer's FIN, and resolves
 * when the connection has closed cleanly. Zero-copy both ways (txFree/commit, peek/consume).
 */
export function exchange(
  c: Connection,
  sendBytes: number,
  seed: string,
  onFirstConnect = true,
): Promise<OurResult> {
  return new Promise<OurResult>((resolve, reject) => {
    const rx = createHash('sha256');
    const tx = createHash('sha256');
    const next = pattern(seed);
    let received = 0;
    let sent = 0;
    let pending: Buffer | null = null;
    let pendingOff = 0;
    let shut = false;
    let closed = false;
    const result = { received: 0, receivedSha256: '', sent: 0, sentSha256: '', bytesAfterClose: 0 };
    const pump = (conn: Connection): void => {
      while (!shut && conn.canWrite) {
        if (pending === null || pendingOff === pending.length) {
          if (sent === sendBytes) {
            shut = true;
            conn.shutdown();
            return;
          }
          pending = next(Math.min(64 * 1024, sendBytes - sent));
          pendingOff = 0;
          tx.update(pending);
          sent += pending.length;
        }
        const n = conn.write(pending, pendingOff);
        if (n === 0) return; // TX ring full: onWritable continues
        pendingOff += n;
      }
    };
    c.handlers = {
      onConnect: (conn) => pump(conn),
      onWritable: (conn) => pump(conn),
      onReadable: (conn) => {
        const [a, b] = conn.peek();
        const n = a.length + (b?.length ?? 0);
        if (closed) {
          // The stack must deliver every byte before onClose; count (and so fail) any that come later.
          result.bytesAfterClose += n;
        } else {
          rx.update(a);
          if (b) rx.update(b);
          received += n;
        }
        conn.consume(n);
      },
      onClose: (_conn, err) => {
        closed = true;
        if (err) {
          reject(err);
          return;
        }
        Object.assign(result, {
          received,
          receivedSha256: rx.digest('hex'),
          sent,
          sentSha256: tx.digest('hex'),
        });
        resolve(result);
      },
    };
    if (!onFirstConnect) pump(c);
  });
}

/** Connects from `stack` and exchanges; resolves with our side's result. */
export function connectAndExchange(
  stack: StackApi,
  ip: string,
  port: number,
  sendBytes: number,
  seed: string,
): Promise<OurResult> {
  const c = stack.connect(ip, port);
  return exchange(c, sendBytes, seed);
}
