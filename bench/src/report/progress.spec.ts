import { expect } from 'chai';
import { Progress } from './progress.js';

function sink() {
  let text = '';
  return { write: (s: string) => (text += s), text: () => text };
}

describe('progress', () => {
  it('on a terminal, redraws one bar line in place and keeps only the outcomes that are not ok', () => {
    const out = sink();
    const p = new Progress(out, 2, { isTTY: true, columns: 60 });
    p.begin('linux rpc-echo');
    p.end('ok');
    p.begin('x86 rpc-echo');
    p.end('not available: no device');
    p.finish();
    const lines = out.text().split(/[\r\n]/);
    expect(out.text()).to.include('\r[############------------]  50% 2/2 x86 rpc-echo');
    expect(lines).to.include('  x86 rpc-echo: not available: no device');
    expect(lines.filter((l) => l.includes('linux rpc-echo:'))).to.deep.equal([]);
    expect(lines.at(-2)).to.match(/2 runs in \d+\.\d s$/);
    for (const l of out.text().split(/[\r\n]/)) expect(l.length).to.be.at.most(60);
  });

  it('elsewhere (CI logs, pipes), prints one plain line per run and no carriage returns', () => {
    const out = sink();
    const p = new Progress(out, 2, { isTTY: false, columns: 80 });
    p.begin('linux rpc-echo');
    p.update(0.5);
    p.end('ok');
    p.begin('x86 rpc-echo');
    p.end('FAILED: reset');
    p.finish();
    expect(out.text()).to.not.include('\r');
    expect(out.text()).to.match(
      /^\[1\/2\] linux rpc-echo\n\[2\/2\] x86 rpc-echo\n {4}FAILED: reset\n2 runs in \d+\.\d s\n$/,
    );
  });
});
