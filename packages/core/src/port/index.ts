export * from './virtual-network.js';
export * from './fault-injecting-port.js';
export * from './delegating-port.js';
export * from './tracing-port.js';
export * from './capturing-port.js';
export * from './pcap-writer.js';
export * from './null-port.js';
export { wireTimeNs, ETHERNET_WIRE_OVERHEAD_BYTES } from './wire-time.js';
export * from './virtual-wires.js';
