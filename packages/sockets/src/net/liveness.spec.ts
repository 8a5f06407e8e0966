import { expect } from 'chai';
import { Hold, Liveness } from './liveness.js';

describe('Liveness: one ref’d timer while anything ref’d is open', () => {
  it('holds while open and ref’d, in any order of open/ref/unref, never releasing twice', () => {
    const l = new Liveness();
    const a = new Hold(l);
    const b = new Hold(l);
    a.setRefed(false);
    a.setOpen(true);
    expect(l.count).to.equal(0); // unref'd before opening
    a.setRefed(true);
    b.setOpen(true);
    expect(l.count).to.equal(2);
    b.setOpen(true);
    expect(l.count).to.equal(2); // idempotent
    a.setOpen(false);
    a.setOpen(false);
    expect(l.count).to.equal(1);
    b.setRefed(false);
    expect(l.count).to.equal(0);
    l.dispose();
  });

  it('its timer is ref’d only while something holds, and gone after dispose', () => {
    const l = new Liveness();
    const h = new Hold(l);
    h.setOpen(true);
    const timer = (l as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).to.equal(true);
    h.setOpen(false);
    expect(timer.hasRef()).to.equal(false);
    l.dispose();
    expect((l as unknown as { timer: NodeJS.Timeout | null }).timer).to.equal(null);
    h.setOpen(true); // after dispose: nothing is held any more
    expect(l.count).to.equal(0);
  });
});
