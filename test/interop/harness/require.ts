/**
 * Interop suites need root, namespaces and tools (and DPDK for some rows): skip with the reason
 * printed, or fail where FLEXTOE_REQUIRE_INTEROP=1 says they must run (CI).
 */
export const REQUIRE_ENV = 'FLEXTOE_REQUIRE_INTEROP';

export function skipOrRequire(ctx: Mocha.Context, why: string, indent: string): void {
  if (process.env[REQUIRE_ENV]) throw new Error(`${REQUIRE_ENV} is set but this suite cannot run: ${why}`);
  console.log(`${indent}skipped: ${why}`);
  ctx.skip();
}
