/** Connection states of RFC 9293 3.3.2. The host tracks them; the NIC only runs ESTABLISHED data. */
export enum TcpState {
  Closed = 'CLOSED',
  Listen = 'LISTEN',
  SynSent = 'SYN-SENT',
  SynReceived = 'SYN-RECEIVED',
  Established = 'ESTABLISHED',
  FinWait1 = 'FIN-WAIT-1',
  FinWait2 = 'FIN-WAIT-2',
  CloseWait = 'CLOSE-WAIT',
  Closing = 'CLOSING',
  LastAck = 'LAST-ACK',
  TimeWait = 'TIME-WAIT',
}

/** Errors as Node's net reports them. */
export type TcpErrorCode =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EHOSTUNREACH'
  | 'ENOBUFS'
  | 'EPIPE';

export class TcpError extends Error {
  constructor(
    readonly code: TcpErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'TcpError';
  }
}
