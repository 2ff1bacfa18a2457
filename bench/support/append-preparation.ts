/**
 * What an append's preparation costs (prepareEvents: validation and the JSON snapshot of the
 * caller's data), for the two events of the README's first mutation, against the text round trip
 * it used before 2026-12-05 (`JSON.parse(JSON.stringify(...))` of data and metadata), run
 * alternately in the same process. Part of `npm run bench -- event-store`.
 */
import { prepareEvents } from '../../src/event-store/internal/append-support.js';
import type { NewEvent } from '../../src/event-store/event-store.port.js';

const metadata = {
  actor: { id: 'alice', name: 'Alice', roles: ['ASSET_MANAGER'] },
  occurredAt: '2026-12-05T04:10:19.788Z',
  correlationId: '01a24465-4f03-7004-892b-167bce10e75d',
  causationId: '01a24465-4f03-7004-892b-167bce10e75d',
  commandId: '3f1d2c4b-0c55-4a7e-9f57-2f1a3c9d8e11',
  commandType: 'RegisterAsset',
};
/** The shapes registerAsset appends (AssetRegistered, AssetNameReserved). */
const EVENTS: NewEvent[] = [
  {
    eventId: '01a24465-4f03-7004-892b-167bce10e75e',
    type: 'AssetRegistered',
    schemaVersion: 1,
    data: {
      assetId: '01a24465-4f03-7004-892b-167bce10e75f', name: 'Hot wallet signer 4711', category: 'SYSTEM', department: 'ops', managerId: 'alice',
      confidentiality: 3, integrity: 3, availability: 2, value: 3, location: undefined, registeredAt: '2026-12-05T04:10:19.788Z',
    },
    metadata,
  },
  {
    eventId: '01a24465-4f03-7004-892b-167bce10e760',
    type: 'AssetNameReserved',
    schemaVersion: 1,
    data: { assetId: '01a24465-4f03-7004-892b-167bce10e75f', department: 'ops', name: 'Hot wallet signer 4711', key: 'hot wallet signer 4711', reservedAt: '2026-12-05T04:10:19.788Z' },
    metadata,
  },
];

/** The snapshot as it was made before: the JSON text and its parse, for data and metadata. */
function textRoundTrip(events: readonly NewEvent[]): unknown[] {
  return events.map((e) => {
    const dataJson = JSON.stringify(e.data);
    const metadataJson = JSON.stringify(e.metadata);
    return { ...e, data: JSON.parse(dataJson) as unknown, metadata: JSON.parse(metadataJson) as unknown, dataJson, metadataJson };
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** µs per append (two events) of each, the median of alternating rounds. */
export function measureAppendPreparation(rounds = 9, perRound = 50_000): { prepareEventsUs: number; textRoundTripUs: number; ratio: number } {
  const ours: number[] = [];
  const before: number[] = [];
  let sink = 0;
  const time = (f: () => unknown[]): number => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) sink += f().length;
    return Number(process.hrtime.bigint() - t) / 1000 / perRound;
  };
  for (let r = 0; r < rounds + 1; r++) {
    const a = time(() => prepareEvents('asset-01a24465', EVENTS));
    const b = time(() => textRoundTrip(EVENTS));
    // The first round warms both up.
    if (r > 0) {
      ours.push(a);
      before.push(b);
    }
  }
  if (sink === 0) throw new Error('nothing prepared');
  const prepareEventsUs = median(ours);
  const textRoundTripUs = median(before);
  return { prepareEventsUs, textRoundTripUs, ratio: prepareEventsUs / textRoundTripUs };
}
