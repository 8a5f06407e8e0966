/** The control words shared by the TAP port and its readiness thread (readiness-worker.ts). */
export const ReadinessWord = {
  /** 1 while the stack wants to hear of the next frame; the readiness thread clears it when it reports one. */
  Armed: 0,
  /** Set by the readiness thread when the fd has a frame; cleared by the stack on EAGAIN. */
  Readable: 1,
  /** Set by the stack to end the readiness thread. */
  Stop: 2,
  /** Set by the readiness thread once it polls: until then READABLE means nothing. */
  Ready: 3,
} as const;
export const READINESS_WORDS = 4;

export interface ReadinessWorkerData {
  readonly fd: number;
  readonly stopFd: number;
  readonly control: SharedArrayBuffer;
}
