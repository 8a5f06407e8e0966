/**
 * A connection whose socket was destroyed (or that a server dropped) while still open. Node
 * closes the file descriptor and the kernel finishes the connection in the background; this is
 * that background, with Linux's rules for orphaned sockets:
 *  - unread received bytes -> RST now (tcp_close: "data was lost", RFC 9293 3.10.4 allows ABORT);
 *  - otherwise FIN after the queued bytes (RFC 9293 3.10.4 CLOSE), the data still delivered;
 *  - data arriving afterwards -> RST (nobody will ever read it);
 *  - no FIN from the peer within ORPHAN_FIN_TIMEOUT_MS of our data being acknowledged ->
 *    abort (Linux's tcp_fin_timeout for FIN-WAIT-2 orphans; the core keeps no such timer).
 * Until our bytes are acknowledged the orphan keeps the process alive if its socket did, so
 * "write then destroy then exit" still delivers, as it would with a kernel stack.
 */
import type { Connection } from '@flextoe/core';
import type { NetContext } from './context.js';

/** Linux's default net.ipv4.tcp_fin_timeout. */
export const ORPHAN_FIN_TIMEOUT_MS = 60_000;

export function orphanConnection(ctx: NetContext, c: Connection, holdProcess: boolean): void {
  c.owner = null;
  if (ctx.closing || c.readableLength > 0) {
    resetConnection(ctx, c);
    return;
  }
  ctx.counters.orphaned++;
  let held = false;
  let finTimer: ReturnType<typeof setTimeout> | null = null;
  const settle = (): void => {
    if (held) ctx.liveness.release();
    held = false;
  };
  const dataDelivered = (): void => {
    settle();
    if (finTimer !== null) return;
    finTimer = setTimeout(() => {
      ctx.counters.orphanTimeouts++;
      c.handlers = {};
      c.abort();
    }, ORPHAN_FIN_TIMEOUT_MS);
    finTimer.unref();
  };
  c.handlers = {
    onReadable: (conn) => {
      conn.handlers = { onClose: cleanup };
      ctx.counters.resets++;
      conn.abort();
    },
    onWritable: (conn) => {
      if (conn.txQueued === 0) dataDelivered();
    },
    onClose: () => cleanup(),
  };
  function cleanup(): void {
    settle();
    if (finTimer !== null) clearTimeout(finTimer);
    finTimer = null;
  }
  if (holdProcess && c.txQueued > 0) {
    held = true;
    ctx.liveness.hold();
  }
  c.shutdown(); // a no-op when our FIN already went
  if (c.txQueued === 0) dataDelivered();
}

/** RST now (RFC 9293 3.10.5 ABORT); the peer sees ECONNRESET. */
export function resetConnection(ctx: NetContext, c: Connection): void {
  c.owner = null;
  c.handlers = {};
  ctx.counters.resets++;
  c.abort();
}
