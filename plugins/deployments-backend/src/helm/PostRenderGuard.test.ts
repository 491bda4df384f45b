/*
 * The post-render guard with the real helm CLIs (4 and 3), rendering
 * locally (`helm template`): helm passes every document through it, uses
 * exactly what it answers, and stops when it refuses.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canonicalGuard } from '../__testUtils__/canonicalGuard';
import { parseHelmVersion } from './helmVersion';
import { PostRenderCheck, PostRenderGuard } from './PostRenderGuard';

const execFileAsync = promisify(execFile);

function writeChart(dir: string, templates: Record<string, string>): string {
  const chart = join(dir, 'chart');
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(
    join(chart, 'Chart.yaml'),
    'apiVersion: v2\nname: guarded\nversion: 0.1.0\n',
  );
  for (const [name, text] of Object.entries(templates)) {
    writeFileSync(join(chart, 'templates', name), text);
  }
  return chart;
}

const TEMPLATES = {
  'cm.yaml': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: {{ .Release.Name }}',
    'data:',
    '  greeting: "héllo"',
  ].join('\n'),
  'test.yaml': [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: {{ .Release.Name }}-test',
    '  annotations:',
    '    helm.sh/hook: test',
    'spec:',
    '  containers: [{name: t, image: busybox}]',
  ].join('\n'),
};

async function template(
  binary: string,
  chart: string,
  check: PostRenderCheck,
): Promise<{ stdout: string; guard: PostRenderGuard }> {
  const work = mkdtempSync(join(tmpdir(), 'kd-guard-'));
  const { stdout: versionText } = await execFileAsync(binary, [
    'version',
    '--template={{.Version}}',
  ]);
  const guard = await PostRenderGuard.open(work, check);
  const version = parseHelmVersion(versionText);
  try {
    const { stdout } = await execFileAsync(
      binary,
      ['template', 'web', chart, '--namespace=team-a', ...guard.flags(version)],
      {
        env: {
          PATH: process.env.PATH,
          HOME: work,
          HELM_CONFIG_HOME: join(work, 'config'),
          HELM_CACHE_HOME: join(work, 'cache'),
          HELM_DATA_HOME: join(work, 'data'),
          ...guard.environment(version),
        },
      },
    );
    return { stdout, guard };
  } catch (error) {
    throw Object.assign(error as Error, { guard });
  } finally {
    await guard.close();
    rmSync(work, { recursive: true, force: true });
  }
}

describe.each([
  ['helm', 4],
  ['helm3', 3],
])('PostRenderGuard with %s', (binary, major) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kd-guard-chart-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes what helm rendered through the check, and helm uses its answer', async () => {
    const chart = writeChart(join(dir, 'ok'), TEMPLATES);
    const seen: string[] = [];
    const { stdout, guard } = await template(binary, chart, async rendered => {
      seen.push(rendered);
      return canonicalGuard(rendered);
    });
    expect(guard.calls).toBe(1);
    expect(seen[0]).toContain('kind: ConfigMap');
    // helm 4 hands hooks to post-renderers too; helm 3 only the manifest.
    expect(seen[0].includes('kind: Pod')).toBe(major === 4);
    // helm 3 prints the canonical JSON as answered; helm 4 re-reads it and re-writes it (keeping the JSON style, not the escapes).
    expect(stdout).toContain(
      major === 4 ? '"greeting": "héllo"' : '"greeting":"h\\u00e9llo"',
    );
  });

  it("stops helm when the check refuses, with the check's reason", async () => {
    const chart = writeChart(join(dir, 'refused'), TEMPLATES);
    const failure = await template(binary, chart, async () => {
      throw new Error('object outside the boundary');
    }).catch(error => error);
    // helm 4 does not print its post-renderer plugin's error output: the guard keeps the reason.
    expect(String(failure.stderr)).toContain('post render');
    expect(failure.guard.failure.message).toBe('object outside the boundary');
  });

  it('refuses a caller without the run token', async () => {
    const chart = writeChart(join(dir, 'token'), TEMPLATES);
    const work = mkdtempSync(join(tmpdir(), 'kd-guard-'));
    const guard = await PostRenderGuard.open(work, canonicalGuard);
    try {
      const version = parseHelmVersion(major === 4 ? 'v4.1.0' : 'v3.17.0');
      const { KUBEDEPLOY_GUARD_TOKEN: _token, ...environment } =
        guard.environment(version);
      const failure = await execFileAsync(
        binary,
        ['template', 'web', chart, ...guard.flags(version)],
        {
          env: {
            PATH: process.env.PATH,
            HOME: work,
            ...environment,
            KUBEDEPLOY_GUARD_TOKEN: '00'.repeat(32),
          },
        },
      ).catch(error => error);
      expect(String(failure.stderr)).toContain('post render');
      expect(guard.calls).toBe(0);
    } finally {
      await guard.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
