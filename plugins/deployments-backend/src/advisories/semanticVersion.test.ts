import {
  compareSemanticVersions,
  findNewerVersions,
  parseSemanticVersion,
} from './semanticVersion';

const v = (raw: string) => {
  const parsed = parseSemanticVersion(raw);
  if (!parsed) throw new Error(`${raw} should parse`);
  return parsed;
};

describe('parseSemanticVersion', () => {
  it.each([
    '1.2.3',
    'v1.2.3',
    '0.0.0',
    '1.2.3-rc.1',
    '1.2.3+build.5',
    '1.2.3_build',
  ])('reads %s', raw => expect(parseSemanticVersion(raw)).toBeDefined());

  it.each([
    'latest',
    '1.27',
    '01.2.3',
    '1.2',
    'sha-abc123',
    '1.2.3.4',
    'V1.2.3',
    '',
  ])('does not guess at %s', raw =>
    expect(parseSemanticVersion(raw)).toBeUndefined(),
  );
});

describe('compareSemanticVersions', () => {
  it('orders releases above their pre-releases, numerically', () => {
    const sorted = [
      '1.10.0',
      '1.2.3',
      '1.2.3-rc.10',
      '1.2.3-rc.2',
      '1.2.3-alpha',
      '2.0.0',
    ]
      .map(v)
      .sort(compareSemanticVersions)
      .map(x => x.raw);
    expect(sorted).toEqual([
      '1.2.3-alpha',
      '1.2.3-rc.2',
      '1.2.3-rc.10',
      '1.2.3',
      '1.10.0',
      '2.0.0',
    ]);
  });
});

describe('findNewerVersions', () => {
  const tags = [
    '1.2.3',
    '1.2.4',
    '1.2.10',
    '1.3.0',
    '1.4.0-rc.1',
    '2.0.0',
    'latest',
    'v1.2.9',
    '1.1.9',
  ];

  it('finds the highest patch first, then the newer minor and major', () => {
    expect(
      findNewerVersions(v('1.2.3'), tags, { includePrereleases: false }),
    ).toEqual({ patch: '1.2.10', minor: '1.3.0', major: '2.0.0' });
  });

  it('takes pre-releases only when asked', () => {
    expect(
      findNewerVersions(v('1.2.3'), tags, { includePrereleases: true }).minor,
    ).toBe('1.4.0-rc.1');
  });

  it('compares only tags spelled the same way', () => {
    expect(
      findNewerVersions(v('v1.2.3'), tags, { includePrereleases: false }),
    ).toEqual({ patch: 'v1.2.9' });
  });

  it('finds nothing when the newest runs', () => {
    expect(
      findNewerVersions(v('2.0.0'), tags, { includePrereleases: false }),
    ).toEqual({});
  });
});
