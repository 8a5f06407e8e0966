import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { HookVerdict } from '../pipeline/hooks.js';
import { loadDataPathModules, ModuleLoadError } from './module-loader.js';

describe('runtime/module-loader (config.modules)', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const failure = async (path: string, options?: Record<string, unknown>): Promise<ModuleLoadError> => {
    try {
      await loadDataPathModules([{ path, ...(options ? { options } : {}) }]);
    } catch (e) {
      expect(e).to.be.instanceOf(ModuleLoadError);
      expect((e as ModuleLoadError).path).to.equal(path);
      return e as ModuleLoadError;
    }
    throw new Error('expected a ModuleLoadError');
  };

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flextoe-modules-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes each module from createModule(options) or the default export, in order, options copied', async () => {
    const a = file(
      'a.mjs',
      'export function createModule(o) { o.seen = true; return { name: "a-" + o.tag, ingress: () => 1 }; }',
    );
    const b = file('b.mjs', 'export default async () => ({ name: "b", afterProtocol() {} });');
    const options = { tag: 'x' };
    const [ma, mb] = await loadDataPathModules([{ path: a, options }, { path: b }]);
    expect(ma!.name).to.equal('a-x');
    expect(ma!.ingress!({} as never)).to.equal(HookVerdict.Drop);
    expect(mb!.name).to.equal('b');
    expect(options, 'the configuration is not changed by the module').to.deep.equal({ tag: 'x' });
  });

  it('names the file and why when it cannot make a module', async () => {
    expect((await failure(join(dir, 'missing.mjs'))).message).to.match(
      /missing\.mjs: cannot import it: no such file/,
    );
    expect((await failure(file('syntax.mjs', 'export const = 1;'))).message).to.match(/cannot import it/);
    expect((await failure(file('none.mjs', 'export const x = 1;'))).message).to.match(
      /exports no createModule/,
    );
    expect(
      (await failure(file('throws.mjs', 'export function createModule() { throw new Error("bad port"); }')))
        .message,
    ).to.match(/createModule threw: bad port/);
    expect((await failure(file('null.mjs', 'export default () => null;'))).message).to.match(/returned null/);
    expect((await failure(file('noname.mjs', 'export default () => ({ ingress() {} });'))).message).to.match(
      /has no name/,
    );
    expect((await failure(file('nohook.mjs', 'export default () => ({ name: "n" });'))).message).to.match(
      /"n" has no hook/,
    );
    expect(
      (await failure(file('badhook.mjs', 'export default () => ({ name: "n", egress: 3 });'))).message,
    ).to.match(/egress is not a function/);
  });
});
