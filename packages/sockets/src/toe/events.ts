/**
 * Readiness flags of the low-level API, after epoll(7): what a connection or listener can do
 * now. `Error` and `Hangup` are always reported, whatever the interest (as EPOLLERR/EPOLLHUP).
 */
export const ToeEvent = {
  /** Bytes to read, or the peer's FIN (reading then yields end of stream); a listener: a connection to accept. */
  Readable: 1,
  /** The connection is established and its TX ring has free space. */
  Writable: 2,
  /** The peer sent FIN: no more data will arrive (EPOLLRDHUP). */
  ReadHangup: 4,
  /** The connection is fully closed (or the listener is closed); reported once, then forgotten. */
  Hangup: 8,
  /** The connection ended abnormally (reset, timeout, refused): see `connection.error`. */
  Error: 16,
  /**
   * Interest modifier: report a readiness once per change (EPOLLET) instead of for as long as
   * it holds (level-triggered, the default).
   */
  Edge: 1 << 30,
} as const;

export type ToeEventFlags = number;

const NAMES: readonly [number, string][] = [
  [ToeEvent.Readable, 'readable'],
  [ToeEvent.Writable, 'writable'],
  [ToeEvent.ReadHangup, 'read-hangup'],
  [ToeEvent.Hangup, 'hangup'],
  [ToeEvent.Error, 'error'],
];

/** 'readable|writable', for logs and test messages. */
export function describeEvents(events: ToeEventFlags): string {
  const parts = NAMES.filter(([bit]) => (events & bit) !== 0).map(([, name]) => name);
  return parts.length > 0 ? parts.join('|') : 'none';
}
