// Mocha runs the TypeScript sources through tsx. tsx reads the tsconfig in the working
// directory; the root one is a solution file without compiler options, so point tsx at the
// shared base (experimentalDecorators for inversify's @inject parameters). Mocha re-spawns
// node with `node-option`, and the child inherits this environment.
process.env.TSX_TSCONFIG_PATH ??= require('node:path').join(__dirname, 'tsconfig.base.json');

module.exports = {
  'node-option': ['import=tsx/esm', 'conditions=source'],
  spec: ['packages/*/src/**/*.spec.ts', 'bench/src/**/*.spec.ts', 'test/**/*.test.ts'],
  ignore: ['**/node_modules/**', '**/dist/**'],
  timeout: 120000,
  // A clean-clone CI rehearsal printed its summary and then never exited: some stack's timers
  // or threads outlived their test. Process liveness is asserted by its own specs in child
  // processes (test/sockets/net-stack.test.ts); the suite itself must end. Find the leak and
  // drop this (notes, session 2).
  exit: true,
  reporter: 'spec',
};
