/**
 * Runs a package's spec file a second time inside another suite: the module is imported again
 * under a fresh URL and its top-level `describe` calls are captured (not registered), so the
 * caller registers them inside its own describe, where a hook installs another stack under test.
 */

/** Imports `specUrl` again (tagged `tag`, with `env` set meanwhile); returns its top-level describes. */
export async function captureSuites(
  specUrl: URL,
  env: Record<string, string>,
  tag: string,
): Promise<[string, () => void][]> {
  const captured: [string, () => void][] = [];
  const g = globalThis as unknown as { describe: (name: string, fn: () => void) => unknown };
  const realDescribe = g.describe;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  g.describe = (name, fn) => captured.push([name, fn]);
  Object.assign(process.env, env);
  try {
    await import(`${specUrl.href}?stack=${tag}`);
  } finally {
    g.describe = realDescribe;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return captured;
}
