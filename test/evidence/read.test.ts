import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { parseStrictJson } from '../../src/core/json.js';
import { parseEvent } from '../../src/evidence/read.js';
import { encodeEvent } from '../../src/log/event.js';

const event = encodeEvent({
  v: 1,
  type: 'warrant.expired',
  at: '2026-03-01T00:00:00.000Z',
  actor: 'countersign',
  links: { request: 'a'.repeat(64), warrant: 'wrt_1', nhi: 'svc:payments' },
  data: { notAfter: '2026-03-01T00:00:00.000Z' },
});

describe('a leaf read as a log event', () => {
  it('reads the canonical leaf the log writes', () => {
    expect(parseEvent(event.leaf)).toEqual(JSON.parse(event.leaf));
  });

  it('refuses a leaf that repeats a key, whichever value comes last', () => {
    const repeated = [
      event.leaf.replace('"actor":"countersign"', '"actor":"countersign","actor":"countersign"'),
      event.leaf.replace('"actor":"countersign"', '"actor":"mallory","actor":"countersign"'),
      event.leaf.replace('"notAfter":', '"notAfter":"x","notAfter":'),
    ];
    for (const leaf of repeated) {
      expect(leaf).not.toBe(event.leaf);
      expect(parseEvent(leaf)).toBeUndefined();
    }
  });

  it('refuses a leaf that is not in canonical form, or not JSON', () => {
    for (const leaf of [
      event.leaf.replace('{"actor"', '{ "actor"'),
      event.leaf.replace('"v":1', '"v":1.0'),
      event.leaf.replace('"countersign"', '"counter\\u0073ign"'),
      event.leaf.replace('"v":1', '"v":1e400'),
      event.leaf.replace('"countersign"', '"\\ud800"'),
      event.leaf.slice(0, -1),
      '',
    ]) {
      expect(parseEvent(leaf)).toBeUndefined();
    }
  });

  it('reads any event in canonical form, and none with a key repeated', () => {
    fc.assert(
      fc.property(
        fc.record({
          v: fc.constant(1),
          type: fc.string(),
          at: fc.string(),
          actor: fc.string(),
          links: fc.dictionary(fc.constantFrom('request', 'warrant', 'nhi'), fc.string()),
          data: fc.dictionary(fc.string(), fc.jsonValue()),
        }),
        (value) => {
          const leaf = canonicalJson(value);
          expect(parseEvent(leaf)).toEqual(parseStrictJson(leaf));
          // The same key again, first: `JSON.parse` keeps the last, canonical, value.
          expect(parseEvent(leaf.replace('{"actor":', '{"actor":"x","actor":'))).toBeUndefined();
        },
      ),
    );
  });
});
