import { readFileSync } from 'node:fs';

/** The @flextoe/sockets version; package.json is two levels up from both src/cli and dist/cli. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
