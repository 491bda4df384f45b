import {
  getManifestArguments,
  historyArguments,
  processDeadlineSeconds,
  rollbackArguments,
  testArguments,
  uninstallArguments,
  upgradeArguments,
  HelmUpgradeArguments,
} from './helmArguments';
import { HelmVersion, parseHelmVersion } from './helmVersion';

const HELM_3: HelmVersion = { major: 3, minor: 16, full: 'v3.16.2' };
const HELM_4: HelmVersion = { major: 4, minor: 1, full: 'v4.1.4' };

const release = { releaseName: 'web', namespace: 'team-a' };
const upgrade: HelmUpgradeArguments = {
  ...release,
  chartPath: '/tmp/run/chart.tgz',
  valuesPath: '/tmp/run/values.json',
  timeoutSeconds: 300,
  historyMax: 10,
  createNamespace: false,
  mode: 'apply',
  rollbackOnFailure: true,
  wait: true,
  postRendererFlags: ['--post-renderer=kubedeploy-guard'],
};
const common = [
  'upgrade',
  '--install',
  'web',
  '/tmp/run/chart.tgz',
  '--values=/tmp/run/values.json',
  '--namespace=team-a',
  '--history-max=10',
  '--timeout=300s',
  '--output=json',
  '--skip-crds',
  '--post-renderer=kubedeploy-guard',
];

describe('parseHelmVersion', () => {
  it('accepts helm 4 and helm 3.13+', () => {
    expect(parseHelmVersion('v4.1.4\n')).toEqual({
      major: 4,
      minor: 1,
      full: 'v4.1.4',
    });
    expect(parseHelmVersion('v3.13.0').major).toBe(3);
    expect(parseHelmVersion('v3.16.0-rc.1+abc').minor).toBe(16);
  });

  it('refuses helm 2, helm 3 before server-side dry-run, and garbage', () => {
    expect(() => parseHelmVersion('v3.12.3')).toThrow(
      /not supported.*3\.13 or newer/,
    );
    expect(() => parseHelmVersion('v2.17.0')).toThrow(/not supported/);
    expect(() => parseHelmVersion('v5.0.0')).toThrow(/not supported/);
    expect(() => parseHelmVersion('oops')).toThrow(/cannot tell/);
  });
});

describe('upgradeArguments', () => {
  it('helm 4: --rollback-on-failure with the watcher wait', () => {
    expect(upgradeArguments(HELM_4, upgrade)).toEqual([
      ...common,
      '--rollback-on-failure',
      '--wait=watcher',
      '--debug',
    ]);
  });

  it('helm 3: --atomic, which implies --wait', () => {
    expect(upgradeArguments(HELM_3, upgrade)).toEqual([
      ...common,
      '--atomic',
      '--debug',
    ]);
  });

  it('waits without rollback', () => {
    const input = { ...upgrade, rollbackOnFailure: false };
    expect(upgradeArguments(HELM_4, input)).toContain('--wait=watcher');
    expect(upgradeArguments(HELM_4, input)).not.toContain(
      '--rollback-on-failure',
    );
    expect(upgradeArguments(HELM_3, input)).toContain('--wait');
    expect(upgradeArguments(HELM_3, input)).not.toContain('--atomic');
  });

  it('neither waits nor rolls back when told not to', () => {
    const input = { ...upgrade, rollbackOnFailure: false, wait: false };
    for (const version of [HELM_3, HELM_4]) {
      const args = upgradeArguments(version, input);
      expect(args.filter(a => /wait|atomic|rollback/.test(a))).toEqual([]);
    }
  });

  it('dry-runs without reading the cluster with both majors, never waiting or rolling back', () => {
    const input = {
      ...upgrade,
      mode: 'dry-run' as const,
      createNamespace: true,
    };
    for (const version of [HELM_3, HELM_4]) {
      expect(upgradeArguments(version, input)).toEqual([
        ...common,
        '--create-namespace',
        '--dry-run=client',
        '--debug',
      ]);
    }
  });

  it('never runs without the post-render guard', () => {
    for (const postRendererFlags of [
      [],
      ['--post-renderer=--evil'],
      ['--post-renderer=a', '--post-renderer=b'],
    ]) {
      expect(() =>
        upgradeArguments(HELM_4, { ...upgrade, postRendererFlags }),
      ).toThrow(/post-render guard/);
    }
  });

  it('impersonates through flags, one per group, values kept inside the flag', () => {
    const args = upgradeArguments(HELM_3, {
      ...upgrade,
      impersonate: {
        user: '--kubeconfig=/etc/evil',
        groups: ['devs,ops', 'system:authenticated'],
      },
    });
    expect(args).toContain('--kube-as-user=--kubeconfig=/etc/evil');
    expect(args).toContain('--kube-as-group=devs,ops');
    expect(args).toContain('--kube-as-group=system:authenticated');
    expect(args).not.toContain('--kubeconfig=/etc/evil');
  });

  it('refuses groups without a user and unprintable names', () => {
    expect(() =>
      upgradeArguments(HELM_4, { ...upgrade, impersonate: { groups: ['a'] } }),
    ).toThrow(/requires impersonate.user/);
    expect(() =>
      upgradeArguments(HELM_4, {
        ...upgrade,
        impersonate: { user: 'a\nb' },
      }),
    ).toThrow(/printable/);
  });

  it.each([
    ['-n', 'team-a'],
    ['--set=x', 'team-a'],
    ['web', '--all-namespaces'],
    ['web', '-A'],
    ['Web', 'team-a'],
    ['web', ''],
    ['a'.repeat(54), 'team-a'],
  ])('refuses release %j in namespace %j', (releaseName, namespace) => {
    expect(() =>
      upgradeArguments(HELM_4, { ...upgrade, releaseName, namespace }),
    ).toThrow(expect.objectContaining({ name: 'InputError' }));
  });

  it('refuses relative paths and bad numbers', () => {
    expect(() =>
      upgradeArguments(HELM_4, { ...upgrade, chartPath: '-chart.tgz' }),
    ).toThrow(/absolute/);
    expect(() =>
      upgradeArguments(HELM_4, { ...upgrade, valuesPath: 'values.json' }),
    ).toThrow(/absolute/);
    expect(() =>
      upgradeArguments(HELM_4, { ...upgrade, timeoutSeconds: 0 }),
    ).toThrow(/timeoutSeconds/);
    expect(() =>
      upgradeArguments(HELM_4, { ...upgrade, timeoutSeconds: 1.5 }),
    ).toThrow(/timeoutSeconds/);
    expect(() =>
      upgradeArguments(HELM_4, { ...upgrade, historyMax: -1 }),
    ).toThrow(/historyMax/);
  });

  it('never lets a caller-supplied value become a separate flag', () => {
    const args = upgradeArguments(HELM_4, {
      ...upgrade,
      impersonate: { user: '-x', groups: ['-y'] },
    });
    const positional = args.filter(a => !a.startsWith('-'));
    expect(positional).toEqual(['upgrade', 'web', '/tmp/run/chart.tgz']);
    for (const arg of args.filter(a => a.startsWith('-'))) {
      expect(arg).toMatch(
        /^--(install|values|namespace|kube-as-user|kube-as-group|history-max|timeout|output|rollback-on-failure|wait|debug|skip-crds|post-renderer)(=|$)/,
      );
    }
  });
});

describe('rollbackArguments', () => {
  const input = { ...release, revision: 3, timeoutSeconds: 60, wait: true };

  it('helm 4 waits with the watcher, helm 3 with --wait', () => {
    expect(rollbackArguments(HELM_4, input)).toEqual([
      'rollback',
      'web',
      '3',
      '--namespace=team-a',
      '--timeout=60s',
      '--wait=watcher',
      '--debug',
    ]);
    expect(rollbackArguments(HELM_3, { ...input, historyMax: 5 })).toEqual([
      'rollback',
      'web',
      '3',
      '--namespace=team-a',
      '--timeout=60s',
      '--history-max=5',
      '--wait',
      '--debug',
    ]);
  });

  it('refuses revision 0 and negative revisions', () => {
    expect(() => rollbackArguments(HELM_4, { ...input, revision: 0 })).toThrow(
      /revision/,
    );
    expect(() => rollbackArguments(HELM_4, { ...input, revision: -2 })).toThrow(
      /revision/,
    );
  });
});

describe('other commands', () => {
  it('uninstall waits only when asked', () => {
    const input = { ...release, timeoutSeconds: 60 };
    expect(uninstallArguments(HELM_4, { ...input, wait: false })).toEqual([
      'uninstall',
      'web',
      '--namespace=team-a',
      '--timeout=60s',
      '--debug',
    ]);
    expect(uninstallArguments(HELM_4, { ...input, wait: true })).toContain(
      '--wait=watcher',
    );
    expect(uninstallArguments(HELM_3, { ...input, wait: true })).toContain(
      '--wait',
    );
  });

  it('test runs without debug output (which would print values) and without --logs', () => {
    for (const version of [HELM_3, HELM_4]) {
      expect(
        testArguments(version, { ...release, timeoutSeconds: 120 }),
      ).toEqual(['test', 'web', '--namespace=team-a', '--timeout=120s']);
    }
  });

  it('history and get manifest', () => {
    expect(historyArguments(HELM_3, { ...release, max: 1 })).toEqual([
      'history',
      'web',
      '--namespace=team-a',
      '--output=json',
      '--max=1',
    ]);
    expect(getManifestArguments(HELM_4, release)).toEqual([
      'get',
      'manifest',
      'web',
      '--namespace=team-a',
    ]);
    expect(getManifestArguments(HELM_4, { ...release, revision: 2 })).toEqual([
      'get',
      'manifest',
      'web',
      '--namespace=team-a',
      '--revision=2',
    ]);
  });
});

describe('processDeadlineSeconds', () => {
  it('leaves room for helm to wait and then roll back', () => {
    expect(processDeadlineSeconds(20)).toBe(100);
    expect(processDeadlineSeconds(20, { rollbackOnFailure: true })).toBe(120);
  });
});
