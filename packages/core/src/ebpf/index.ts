// eBPF/XDP programs (clang -target bpf objects) as data-path modules.
export * from './instructions.js';
export * from './vm.js';
export * from './elf.js';
export * from './xdp-module.js';
