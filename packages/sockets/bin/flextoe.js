#!/usr/bin/env node
// The `flextoe` command. The code lives in src/cli (TypeScript); this shim runs the build.
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write(`flextoe: not built (${err.message}); run "npm run build" at the repository root\n`);
  process.exit(1);
}
await cli.main();
