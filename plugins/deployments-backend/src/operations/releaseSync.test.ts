import { HelmRevision } from '../helm';
import { ReleaseRecord } from './DatabaseOperationStore';
import { compareRelease, DeclaredRelease } from './releaseSync';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

const declared: DeclaredRelease = {
  planRevision: 2,
  chartName: 'hello',
  chartVersion: '0.2.0',
  chartDigest: DIGEST_B,
  valuesHash: 'values-2',
  where: 'prod/team-a',
  releaseName: 'payments',
};

function revision(n: number, fields: Partial<HelmRevision> = {}): HelmRevision {
  return {
    revision: n,
    status: 'deployed',
    chart: 'hello-0.2.0',
    description: 'Upgrade complete',
    updated: `2026-12-02T04:0${n}:00.000000001Z`,
    ...fields,
  };
}

function record(fields: Partial<ReleaseRecord>): ReleaseRecord {
  return {
    id: 'r',
    planId: 'plan',
    planRevision: 2,
    operationId: 'op',
    targetId: 't',
    namespace: 'team-a',
    releaseName: 'payments',
    chartDigest: DIGEST_B,
    valuesHash: 'values-2',
    actor: 'user:default/ana',
    outcome: 'deployed',
    createdAt: '2026-12-02T05:00:00.000Z',
    ...fields,
  };
}

describe('compareRelease', () => {
  it('says not installed when helm has no history', () => {
    expect(compareRelease(declared, [], []).status).toBe('not-installed');
  });

  it('is in sync when the portal made the latest revision from the plan as it is', () => {
    const state = compareRelease(
      declared,
      [revision(1), revision(2)],
      [record({ helmRevision: 2 })],
    );
    expect(state).toMatchObject({
      status: 'in-sync',
      differences: [],
      live: { revision: 2, madeByPortal: true, planRevision: 2 },
    });
  });

  it('names each input that changed since the apply', () => {
    const state = compareRelease(
      declared,
      [revision(1, { chart: 'hello-0.1.0' })],
      [
        record({
          helmRevision: 1,
          planRevision: 1,
          chartDigest: DIGEST_A,
          valuesHash: 'values-1',
        }),
      ],
    );
    expect(state.status).toBe('differs');
    expect(state.differences.map(d => d.field)).toEqual([
      'chart',
      'values',
      'plan-revision',
    ]);
    expect(state.differences[0].message).toBe(
      'revision 1 runs chart hello-0.1.0 (sha256:aaaaaaaaaaaa…); the plan has hello-0.2.0 (sha256:bbbbbbbbbbbb…)',
    );
  });

  it('says a revision made outside the portal is one, and a chart it runs', () => {
    const state = compareRelease(
      declared,
      [revision(2), revision(3, { chart: 'hello-0.3.0' })],
      [record({ helmRevision: 2 })],
    );
    expect(state.live).toMatchObject({ revision: 3, madeByPortal: false });
    expect(state.differences).toEqual([
      {
        field: 'revision',
        message:
          'revision 3 was not made by the portal (helm: "Upgrade complete")',
      },
      {
        field: 'chart',
        message: 'revision 3 runs chart hello-0.3.0; the plan has hello-0.2.0',
      },
    ]);
  });

  it('follows a portal rollback to the record of the revision it restored', () => {
    const records = [
      record({
        helmRevision: 3,
        outcome: 'rollback to 1',
        chartDigest: undefined,
        valuesHash: undefined,
      }),
      record({ helmRevision: 2 }),
      record({ helmRevision: 1, planRevision: 1, valuesHash: 'values-1' }),
    ];
    const state = compareRelease(declared, [revision(3)], records);
    expect(state.live).toMatchObject({ madeByPortal: true, planRevision: 1 });
    expect(state.differences.map(d => d.field)).toEqual([
      'revision',
      'values',
      'plan-revision',
    ]);
    expect(state.differences[0].message).toBe(
      'revision 3 is a rollback to revision 1 (by user:default/ana)',
    );
  });

  it('is in sync after a portal rollback to a revision with the same inputs', () => {
    const records = [
      record({
        helmRevision: 3,
        outcome: 'rollback to 2',
        chartDigest: undefined,
      }),
      record({ helmRevision: 2 }),
    ];
    expect(compareRelease(declared, [revision(3)], records).status).toBe(
      'in-sync',
    );
  });

  it("attributes helm's rollback after a failed apply to that apply", () => {
    const records = [
      record({ outcome: 'rolled-back', helmRevision: undefined }),
      record({
        helmRevision: 1,
        planRevision: 1,
        createdAt: '2026-12-02T04:01:00.000Z',
      }),
    ];
    const state = compareRelease(
      declared,
      [
        revision(1),
        revision(2, { status: 'failed' }),
        revision(3, { description: 'Rollback to 1' }),
      ],
      records,
    );
    expect(state.live).toMatchObject({ madeByPortal: true, planRevision: 1 });
    expect(state.differences).toEqual([
      {
        field: 'revision',
        message:
          "revision 3 is helm's rollback to revision 1 after the failed apply by user:default/ana",
      },
      {
        field: 'plan-revision',
        message:
          'revision 3 was deployed from plan revision 1; the plan is at revision 2',
      },
    ]);
  });

  it('says the latest revision failed when a portal apply left it so', () => {
    const state = compareRelease(
      declared,
      [revision(1), revision(2, { status: 'failed' })],
      [
        record({ outcome: 'failed', helmRevision: undefined }),
        record({ helmRevision: 1, createdAt: '2026-12-02T04:01:00.000Z' }),
      ],
    );
    expect(state.live?.madeByPortal).toBe(true);
    expect(state.differences).toEqual([
      { field: 'status', message: 'revision 2 is failed' },
    ]);
  });
});
