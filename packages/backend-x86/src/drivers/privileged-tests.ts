/**
 * For specs that need root, /dev/net/tun or the DPDK addon: skip with the reason printed, or,
 * where the environment says these tests must run (CI sets FLEXTOE_REQUIRE_INTEROP=1), fail
 * with it, so a host that lost root or DPDK cannot turn them into silent skips.
 */
export const REQUIRE_ENV = 'FLEXTOE_REQUIRE_INTEROP';

export function skipOrRequire(ctx: Mocha.Context, why: string, indent = '      '): void {
  if (process.env[REQUIRE_ENV]) throw new Error(`${REQUIRE_ENV} is set but this suite cannot run: ${why}`);
  console.log(`${indent}skipped: ${why}`);
  ctx.skip();
}
