import { canonicalJson } from './canonicalJson';
import { stableHash } from './stableHash';

describe('stableHash', () => {
  it('ignores key order at every level', () => {
    expect(stableHash({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(
      stableHash({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }),
    );
  });

  it('changes with any value, and keeps array order significant', () => {
    const base = stableHash({ a: [1, 2] });
    expect(stableHash({ a: [2, 1] })).not.toBe(base);
    expect(stableHash({ a: [1, 2], b: null })).not.toBe(base);
    expect(base).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('writes sorted JSON', () => {
    expect(canonicalJson({ z: 1, a: { y: 2, b: 3 } })).toBe(
      '{"a":{"b":3,"y":2},"z":1}',
    );
  });
});
