// Root hook (loaded by .mocharc.cjs): the suite must end by itself, as a Node process with no
// open handles does. A stack that outlives its test (a ref'd timer, a NIC-core thread, an open
// port) would keep mocha alive after its summary; instead of hanging CI until its time limit,
// this names what is still alive and ends the process with mocha's own exit code. Run the suite
// and look for "LEAK:" to find such a test.
const GRACE_MS = 20_000;

exports.mochaHooks = {
  afterAll() {
    const timer = setTimeout(() => {
      const resources = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      console.error(
        `LEAK: the process was still alive ${GRACE_MS / 1000} s after the suite: ${resources.join(', ')}`,
      );
      process.exit(); // mocha's exit listener sets the code (failures, or 0)
    }, GRACE_MS);
    timer.unref();
  },
};
