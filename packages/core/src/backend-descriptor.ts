/**
 * What a backend is and what it can do on this host, without loading it: the `flextoe info`
 * table and the error raised when a config selects a backend that cannot run yet. Each
 * backend package exports one `descriptor`; status fields are kept honest (a DPDK-style
 * features table that says "planned" rather than a README that implies "done").
 */
import type { BackendName, PortDriver } from './config/schema.js';

export interface DriverAvailability {
  readonly name: PortDriver;
  /** True when this host has what the driver needs (device nodes, libraries, the addon). */
  readonly available: boolean;
  /** Why (not) available, e.g. "/dev/net/tun present" or "libdpdk not found by pkg-config". */
  readonly detail: string;
}

export interface BackendDescriptor {
  readonly name: BackendName;
  /** One line, e.g. "Simulated Agilio-CX40 (NFP-4000)". */
  readonly title: string;
  readonly description: string;
  readonly status: 'implemented' | 'not-implemented';
  /** The missing capability and the issue that adds it; empty when implemented. */
  readonly issue: string;
  /** 'wall': real time (x86). 'modelled': the discrete-event simulators' own clock. */
  readonly timeBase: 'wall' | 'modelled';
  /** Port drivers the backend supports, probed on this host. */
  readonly drivers: readonly DriverAvailability[];
  /** DPDK-style features table: feature name -> 'yes' | 'planned' | 'n/a' (plus a short note). */
  readonly features: Readonly<Record<string, string>>;
}

/** Raised when a configuration selects a backend (or part of one) that is not built yet. */
export class NotImplementedError extends Error {
  readonly code = 'ERR_FLEXTOE_NOT_IMPLEMENTED';
  readonly backend: BackendName;
  /** The missing capability and its issue, as in `BackendDescriptor.issue`. */
  readonly missing: string;

  constructor(backend: Pick<BackendDescriptor, 'name' | 'title' | 'issue'>) {
    super(
      `flextoe: backend ${backend.name} (${backend.title}) is not implemented yet: missing ${backend.issue}`,
    );
    this.name = 'NotImplementedError';
    this.backend = backend.name;
    this.missing = backend.issue;
  }
}
