import { describe, expect, it } from '@jest/globals';
import { SharedCheckpointWaits, type SharedCheckpoint } from '../../../src/shared/application/shared-checkpoint-waits.js';

/** Waits over a checkpoint the test moves; `leading` hands the waits to `own` when set. */
function waitsOver(state: SharedCheckpoint & { failure?: Error; leading?: boolean }) {
  const told: string[] = [];
  const own: string[] = [];
  const waits = new SharedCheckpointWaits({
    read: async () => {
      if (state.failure) throw state.failure;
      return { saved: state.saved, held: state.held };
    },
    ownWait: (position) => (state.leading ? (own.push(position), Promise.resolve()) : undefined),
    onHold: (held) => told.push(held),
    heldError: (held) => new Error(`held at ${held}`),
    timeoutError: (position, ms) => new Error(`${position} not within ${ms} ms`),
    pollMs: 5,
  });
  return { waits, told, own };
}

describe('SharedCheckpointWaits (an instance that does not run the reactions)', () => {
  it('settles each wait when the checkpoint reaches it, in whatever order the positions come', async () => {
    const state: SharedCheckpoint = { saved: '03', held: null };
    const { waits } = waitsOver(state);
    const settled: string[] = [];
    const all = ['05', '02', '04'].map((p) => waits.wait(p, 2_000).then(() => settled.push(p)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settled).toEqual(['02']);
    state.saved = '05';
    await Promise.all(all);
    expect(settled.sort()).toEqual(['02', '04', '05']);
    expect(waits.size).toBe(0);
  });

  it('refuses at once the waits at or past a hold, telling of it once, and keeps those before it', async () => {
    const state: SharedCheckpoint = { saved: '01', held: '04' };
    const { waits, told } = waitsOver(state);
    const before = waits.wait('03', 2_000);
    await expect(Promise.all([waits.wait('04', 2_000), waits.wait('09', 2_000)])).rejects.toThrow('held at 04');
    expect(told).toEqual(['04']);
    expect(waits.size).toBe(1);
    state.saved = '03';
    await before;
  });

  it('times out each wait on its own deadline, and a read that fails reaches every wait in flight', async () => {
    const state: SharedCheckpoint & { failure?: Error } = { saved: null, held: '' };
    const { waits } = waitsOver(state);
    const short = waits.wait('02', 20);
    const long = waits.wait('02', 5_000);
    await expect(short).rejects.toThrow('02 not within 20 ms');
    state.failure = new Error('connection terminated');
    await expect(long).rejects.toThrow('connection terminated');
    // A later wait polls again.
    state.failure = undefined;
    state.saved = '02';
    await waits.wait('02', 1_000);
  });

  it('hands its waits to the instance\'s own once it runs the reactions', async () => {
    const state = { saved: null, held: null, leading: false };
    const { waits, own } = waitsOver(state);
    const pending = [waits.wait('07', 2_000), waits.wait('08', 2_000)];
    await new Promise((resolve) => setTimeout(resolve, 20));
    state.leading = true;
    await Promise.all(pending);
    expect(own.sort()).toEqual(['07', '08']);
  });
});
