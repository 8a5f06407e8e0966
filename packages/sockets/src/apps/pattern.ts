/**
 * Deterministic pseudo-random bytes for transfer checks: the stream for (seed, length) is
 * always the same, so a receiver can recompute its hash without it being sent. Generated in
 * 64 KiB blocks from core's seeded PRNG (xoshiro128**), so a duplicated, dropped or reordered
 * block changes the hash.
 */
import { createHash } from 'node:crypto';
import { Prng } from '@flextoe/core';

export const PATTERN_BLOCK_BYTES = 64 * 1024;

/** The stream's bytes in blocks of 64 KiB (the last one shorter); each block is a fresh buffer. */
export function* patternChunks(seed: number, length: number): Generator<Buffer> {
  if (!Number.isSafeInteger(length) || length < 0)
    throw new RangeError(`pattern length is ${length} but must be a non-negative integer`);
  const prng = new Prng(`pattern:${seed}`);
  for (let done = 0; done < length; done += PATTERN_BLOCK_BYTES) {
    const block = Buffer.allocUnsafe(PATTERN_BLOCK_BYTES);
    const words = new Uint32Array(block.buffer, block.byteOffset, PATTERN_BLOCK_BYTES / 4);
    for (let i = 0; i < words.length; i++) words[i] = prng.nextU32();
    yield length - done >= PATTERN_BLOCK_BYTES ? block : block.subarray(0, length - done);
  }
}

/** SHA-256 (hex) of the pattern stream (seed, length). */
export function patternSha256(seed: number, length: number): string {
  const h = createHash('sha256');
  for (const chunk of patternChunks(seed, length)) h.update(chunk);
  return h.digest('hex');
}
