// Patch advisories in the browser: a release of payments-api runs image
// 1.2.3 and chart 0.1.0 while the local registry offers 1.2.4, 1.3.0 and
// chart 0.1.1. The check tells the entity's owner (bob) in his
// notifications, which open the plan; the Plan tab's advisories card lists
// them with the way to act on each; the chart patch becomes a plan revision
// on click, which is dry-run, applied and then shown as resolved. The entity's Overview card and /deployments show
// the same advisories.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test, uniqueName } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';
import {
  details,
  operationFinished,
  planStatus,
  run,
  waitIdle,
} from '../lib/plans.mjs';

const execFileAsync = promisify(execFile);
const ENTITY_PAGE = '/catalog/default/component/payments-api';
const registry = process.env.KUBEDEPLOY_REGISTRY;

const sha256 = bytes =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A minimal image (a config blob, no layers) under a tag, over plain http. */
async function pushImage(repository, tag) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { tag } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const started = await fetch(
    `http://${registry}/v2/${repository}/blobs/uploads/`,
    { method: 'POST' },
  );
  const upload = new URL(started.headers.get('location'), `http://${registry}`);
  upload.searchParams.set('digest', sha256(config));
  const blob = await fetch(upload, { method: 'PUT', body: config });
  if (blob.status !== 201) throw new Error(`blob push: ${blob.status}`);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: config.length,
    },
    layers: [],
  });
  const put = await fetch(
    `http://${registry}/v2/${repository}/manifests/${tag}`,
    {
      method: 'PUT',
      headers: {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
      },
      body: manifest,
    },
  );
  if (put.status !== 201) throw new Error(`manifest push: ${put.status}`);
}

/** Packages and pushes one version of a small chart whose values name the image. */
async function pushChart(path, version, appRepository) {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-chart-'));
  try {
    const chart = join(dir, 'advised');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(
      join(chart, 'Chart.yaml'),
      `apiVersion: v2\nname: advised\nversion: ${version}\n`,
    );
    writeFileSync(
      join(chart, 'values.yaml'),
      `image:\n  repository: ${appRepository}\n  tag: "1.2.3"\n`,
    );
    writeFileSync(
      join(chart, 'values.schema.json'),
      JSON.stringify({
        type: 'object',
        properties: {
          image: {
            type: 'object',
            properties: {
              repository: { type: 'string' },
              tag: { type: 'string' },
            },
          },
        },
      }),
    );
    const labels = '{ app.kubernetes.io/instance: "{{ .Release.Name }}" }';
    writeFileSync(
      join(chart, 'templates', 'deployment.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: {{ .Release.Name }}',
        `  labels: ${labels}`,
        'spec:',
        '  replicas: 1',
        `  selector: { matchLabels: ${labels} }`,
        '  template:',
        `    metadata: { labels: ${labels} }`,
        '    spec:',
        '      securityContext: { runAsNonRoot: true, runAsUser: 101 }',
        '      containers:',
        '        - name: app',
        '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"',
        '',
      ].join('\n'),
    );
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      HELM_CONFIG_HOME: join(dir, 'config'),
      HELM_CACHE_HOME: join(dir, 'cache'),
      HELM_DATA_HOME: join(dir, 'data'),
    };
    await execFileAsync('helm', ['package', chart, '-d', dir], { env });
    await execFileAsync(
      'helm',
      [
        'push',
        join(dir, `advised-${version}.tgz`),
        `oci://${registry}/${path}`,
        '--plain-http',
      ],
      { env },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs an operation through the API and waits for it to succeed. */
async function operate(api, planId, kind) {
  const started = await api.call(
    'POST',
    `/deployments/plans/${planId}/${kind}`,
    {},
  );
  if (started.status !== 202) {
    throw new Error(
      `${kind}: ${started.status} ${started.body?.error?.message}`,
    );
  }
  for (let i = 0; i < 360; i++) {
    const operation = await api.call(
      'GET',
      `/deployments/operations/${started.body.id}`,
    );
    if (operation.body.status === 'succeeded') return;
    if (operation.body.status !== 'running') {
      throw new Error(
        `${kind} ${operation.body.status}: ${operation.body.error}`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`${kind} did not finish`);
}

test(
  'an advisory walks from the owner’s notification to a plan revision with the patched chart, applied and resolved',
  async ({ page, step, api, as }) => {
    const release = uniqueName('adv');
    const path = release;
    const appRepository = `${registry}/${path}/app`;
    let planId;
    try {
      await step('a release runs image 1.2.3 and chart 0.1.0', async () => {
        for (const tag of ['1.2.3', '1.2.4', '1.3.0', 'nightly']) {
          await pushImage(`${path}/app`, tag);
        }
        await pushChart(path, '0.1.0', appRepository);
        await pushChart(path, '0.1.1', appRepository);
        const chart = await api.call('POST', '/deployments/charts', {
          reference: `oci://${registry}/${path}/advised`,
          version: '0.1.0',
        });
        if (chart.status !== 201) {
          throw new Error(
            `chart: ${chart.status} ${chart.body?.error?.message}`,
          );
        }
        const plan = await api.call('POST', '/deployments/plans', {
          entityRef: 'component:default/payments-api',
          chartId: chart.body.id,
          target: 'local-admin',
          namespace: 'team-a',
          releaseName: release,
        });
        if (plan.status !== 201) {
          throw new Error(`plan: ${plan.status} ${plan.body?.error?.message}`);
        }
        planId = plan.body.id;
        for (const kind of ['dry-run', 'preflight', 'apply']) {
          await operate(api, planId, kind);
        }
        await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
        await planStatus(page, 'deployed');
      });

      const card = () =>
        page.locator('.MuiCard-root').filter({ hasText: 'Patch advisories' });

      await step(
        'check now: the advisories card lists the patch, the minor and the chart patch',
        async () => {
          await card().getByRole('button', { name: 'Check now' }).click();
          await card().scrollIntoViewIfNeeded();
          await hasText(card(), 'Set image.tag to 1.2.4', { timeout: 60_000 });
          const rows = card().getByTestId('advisory-row');
          const app = rows.filter({ hasText: `${appRepository}:1.2.3` });
          await hasText(
            app.filter({ hasText: 'Set image.tag to 1.2.4' }).first(),
            'Patch',
            { timeout: 60_000 },
          );
          await hasText(app.filter({ hasText: 'Minor' }).first(), '1.3.0');
          await visible(
            card().getByRole('button', {
              name: 'Create plan revision with 0.1.1',
            }),
          );
          await card().scrollIntoViewIfNeeded();
        },
      );

      // The check told the entity's owners (group payments): bob follows
      // his notification to the plan.
      const bob = await as('local-bob');
      const notice = () =>
        bob.page
          .getByText(new RegExp(`Image patch available for ${release}`))
          .first();
      await bob.step(
        'bob, an owner of payments-api, finds the patch in his notifications',
        async () => {
          await bob.page.goto('/notifications');
          await visible(notice(), { timeout: 60_000 });
        },
      );
      await bob.step(
        'the notification opens the plan, its advisories listed',
        async () => {
          await notice().click();
          await bob.page.waitForURL(
            new RegExp(`/deployments\\?plan=${planId}`),
          );
          await hasText(
            bob.page
              .locator('.MuiCard-root')
              .filter({ hasText: 'Patch advisories' }),
            'Set image.tag to 1.2.4',
            { timeout: 60_000 },
          );
        },
      );

      await step('create the plan revision with chart 0.1.1', async () => {
        await card()
          .getByRole('button', { name: 'Create plan revision with 0.1.1' })
          .click();
        await visible(page.getByText(/Plan revision 2 uses advised 0\.1\.1/));
        await hasText(details(page), '0.1.1');
      });

      await step('dry-run the new revision', async () => {
        await details(page).scrollIntoViewIfNeeded();
        await run(page, 'Dry-run');
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'dry-run passed');
      });

      await step('preflight and apply the new revision', async () => {
        await run(page, 'Preflight');
        await operationFinished(page, 'succeeded');
        await run(page, 'Apply');
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'deployed');
      });

      await step(
        'check again: the apply resolved the chart patch',
        async () => {
          await card().getByRole('button', { name: 'Check now' }).click();
          await card().getByLabel('Resolved too').check();
          await card().scrollIntoViewIfNeeded();
          await hasText(
            card().getByTestId('advisory-row').filter({ hasText: 'Chart' }),
            'Resolved',
          );
          await hasText(card(), 'now runs 0.1.1');
          await hasText(card(), 'chart advised 0.1.1');
        },
      );

      await step(
        'the Overview card shows the release’s advisories',
        async () => {
          await page.goto(ENTITY_PAGE);
          const overview = page
            .locator('.MuiCard-root')
            .filter({ hasText: 'Patch advisories' });
          await hasText(overview, release, { timeout: 60_000 });
          await overview.scrollIntoViewIfNeeded();
        },
      );

      await step(
        'and so does the Advisories section of /deployments',
        async () => {
          await page.goto('/deployments/advisories');
          await hasText(page.getByTestId('advisory-row').first(), /./);
          await visible(page.getByRole('link', { name: release }).first());
        },
      );
    } finally {
      if (planId) {
        await waitIdle(api, planId);
        await api.call('POST', `/deployments/plans/${planId}/uninstall`, {
          confirmReleaseName: release,
        });
        await waitIdle(api, planId);
        await api.call('DELETE', `/deployments/plans/${planId}`);
      }
    }
  },
  { timeout: 600_000 },
);
