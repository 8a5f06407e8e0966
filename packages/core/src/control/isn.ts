/**
 * Initial sequence numbers per RFC 6528 3: ISN = M + F(localip, localport, remoteip,
 * remoteport, secretkey), M a 4-microsecond timer, F a keyed hash (SHA-256 here). An off-path
 * attacker cannot guess the ISN of a new connection, and ISNs of one 4-tuple still increase.
 */
import { createHash, randomBytes } from 'node:crypto';

export type IsnGenerator = (
  localIp: number,
  localPort: number,
  remoteIp: number,
  remotePort: number,
  nowNs: number,
) => number;

export function rfc6528Isn(secret: Buffer = randomBytes(16)): IsnGenerator {
  return (localIp, localPort, remoteIp, remotePort, nowNs) => {
    const h = createHash('sha256');
    const tuple = Buffer.alloc(12);
    tuple.writeUInt32BE(localIp >>> 0, 0);
    tuple.writeUInt32BE(remoteIp >>> 0, 4);
    tuple.writeUInt16BE(localPort, 8);
    tuple.writeUInt16BE(remotePort, 10);
    h.update(tuple);
    h.update(secret);
    const f = h.digest().readUInt32BE(0);
    const m = Math.floor(nowNs / 4000);
    return (m + f) >>> 0;
  };
}

/** A fixed ISN (tests: e.g. just below 2^32 so the transfer wraps the sequence space). */
export function fixedIsn(isn: number): IsnGenerator {
  return () => isn >>> 0;
}
