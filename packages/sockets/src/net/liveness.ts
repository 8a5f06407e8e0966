/**
 * What keeps a process alive, as Node's handles do. The stack's own machinery (poll loop,
 * control-plane timers, the wire's wakeups) must not: an idle stack with nothing open should
 * let the process exit, exactly as an idle Node process with no sockets does. So the `net`
 * layer holds ONE ref'd timer per stack while at least one ref'd server is listening or one
 * ref'd socket is open (or a closed socket still has unacknowledged bytes in flight), and
 * unrefs it otherwise. `socket.unref()` / `server.unref()` withdraw their hold, as in Node.
 */

/** Longer than any realistic process lifetime; the timer never needs to fire. */
const KEEPALIVE_MS = 2 ** 30;

export class Liveness {
  private holds = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private disposed = false;

  /** Things currently holding the process (ref'd servers, sockets, lingering connections). */
  get count(): number {
    return this.holds;
  }

  hold(): void {
    if (this.disposed) return;
    if (this.holds++ === 0) {
      this.timer ??= setInterval(noop, KEEPALIVE_MS);
      this.timer.ref();
    }
  }

  release(): void {
    if (this.holds === 0) return;
    if (--this.holds === 0) this.timer?.unref();
  }

  /** The stack closed: nothing of it may hold the process any more. */
  dispose(): void {
    this.disposed = true;
    this.holds = 0;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function noop(): void {}

/**
 * One holder's contribution: holds while `open && refed`, so ref()/unref() before, during or
 * after the open phase all do the right thing and a holder can never release twice.
 */
export class Hold {
  private held = false;
  private open = false;
  private refed = true;

  constructor(private readonly liveness: Liveness) {}

  get isRefed(): boolean {
    return this.refed;
  }

  setOpen(open: boolean): void {
    this.open = open;
    this.sync();
  }

  setRefed(refed: boolean): void {
    this.refed = refed;
    this.sync();
  }

  private sync(): void {
    const want = this.open && this.refed;
    if (want === this.held) return;
    this.held = want;
    if (want) this.liveness.hold();
    else this.liveness.release();
  }
}
