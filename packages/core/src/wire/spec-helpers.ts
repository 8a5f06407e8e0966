// Shared fast-check arbitraries and byte helpers for the wire specs (test-only).

import fc from 'fast-check';

export const u4 = fc.integer({ min: 0, max: 0xf });
export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A copy of `bytes` with `patch` applied at `offset`. */
export function patched(bytes: Uint8Array, offset: number, ...patch: number[]): Uint8Array {
  const copy = bytes.slice();
  copy.set(patch, offset);
  return copy;
}

/** Every numeric member of a TypeScript numeric enum object. */
export function enumValues(e: Record<string, string | number>): number[] {
  return Object.values(e).filter((v): v is number => typeof v === 'number');
}
