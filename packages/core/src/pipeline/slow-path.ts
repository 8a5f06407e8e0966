/** Why a frame left the data path for the host control plane (FlexTOE exception queue). */
export enum SlowPathReason {
  None = 0,
  /** SYN, RST or URG: connection control belongs to the host (FlexTOE pre-processing). */
  ControlFlags,
  /** Unknown 4-tuple: no installed flow (handshake completion, stray segments -> RST). */
  NoFlow,
  /** ARP request or reply: address resolution is the host's (DESIGN.md 1). */
  Arp,
  /** A user module's ingress hook sent the frame to the host (pipeline/hooks.ts). */
  Module,
}

export const SLOW_PATH_REASON_NAMES: Record<SlowPathReason, string> = {
  [SlowPathReason.None]: 'none',
  [SlowPathReason.ControlFlags]: 'control-flags',
  [SlowPathReason.NoFlow]: 'no-flow',
  [SlowPathReason.Arp]: 'arp',
  [SlowPathReason.Module]: 'module',
};
