// Values across chart versions in the browser: a release of payments-api
// applied twice with a profile whose greeting and API token change, then the
// profile is upgraded to the chart's next version on the Profiles page (the
// dialog names the dropped and added keys, the token comes along sealed),
// the plan moves to that version and its dry-run shows the values and the
// chart's default values changing; the Helm history compares the two
// revisions. Secrets appear only as markers.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test, uniqueName } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';
import { details, operationFinished, run, waitIdle } from '../lib/plans.mjs';

const execFileAsync = promisify(execFile);
const ENTITY_PAGE = '/catalog/default/component/payments-api';
const registry = process.env.KUBEDEPLOY_REGISTRY;
const HELLO = new URL('../../examples/charts/hello', import.meta.url).pathname;

/** hello as `valued` at `version`, `edit`ed, pushed under `path`. */
async function pushValued(path, version, edit = files => files) {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-valued-'));
  try {
    const chart = join(dir, 'valued');
    cpSync(HELLO, chart, { recursive: true });
    writeFileSync(
      join(chart, 'Chart.yaml'),
      readFileSync(join(chart, 'Chart.yaml'), 'utf8')
        .replace(/^name: .*$/m, 'name: valued')
        .replace(/^version: .*$/m, `version: ${version}`),
    );
    const edited = edit({
      values: readFileSync(join(chart, 'values.yaml'), 'utf8'),
      schema: JSON.parse(
        readFileSync(join(chart, 'values.schema.json'), 'utf8'),
      ),
      deployment: readFileSync(
        join(chart, 'templates', 'deployment.yaml'),
        'utf8',
      ),
    });
    writeFileSync(join(chart, 'values.yaml'), edited.values);
    writeFileSync(
      join(chart, 'values.schema.json'),
      JSON.stringify(edited.schema),
    );
    writeFileSync(
      join(chart, 'templates', 'deployment.yaml'),
      edited.deployment,
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
        join(dir, `valued-${version}.tgz`),
        `oci://${registry}/${path}`,
        '--plain-http',
      ],
      { env },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ok(response, what, status = 201) {
  const answered = await response;
  if (answered.status !== status) {
    throw new Error(
      `${what}: ${answered.status} ${answered.body?.error?.message}`,
    );
  }
  return answered.body;
}

/** Runs an operation through the API and waits for it to succeed. */
async function operate(api, planId, kind) {
  const started = await ok(
    api.call('POST', `/deployments/plans/${planId}/${kind}`, {}),
    kind,
    202,
  );
  for (let i = 0; i < 360; i++) {
    const operation = await api.call(
      'GET',
      `/deployments/operations/${started.id}`,
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
  'a profile follows its chart to a new version, and the dry-run and history show the values changing',
  async ({ page, step, api }) => {
    const release = uniqueName('valued');
    let planId;
    let profileId;
    try {
      await step('a release applied twice with changing values', async () => {
        await pushValued(release, '0.1.0');
        await pushValued(release, '0.2.0', ({ values, schema, deployment }) => {
          const properties = { ...schema.properties };
          delete properties.debug;
          properties.tracing = {
            type: 'object',
            additionalProperties: false,
            properties: { enabled: { type: 'boolean', default: false } },
          };
          return {
            values: `${values.replace(
              /^debug: .*$/m,
              '',
            )}\ntracing:\n  enabled: false\n`,
            schema: { ...schema, properties },
            deployment: deployment.replace(
              '{{ .Values.debug | quote }}',
              '"false"',
            ),
          };
        });
        const charts = [];
        for (const version of ['0.1.0', '0.2.0']) {
          charts.push(
            await ok(
              api.call('POST', '/deployments/charts', {
                reference: `oci://${registry}/${release}/valued`,
                version,
              }),
              `chart ${version}`,
            ),
          );
        }
        const profile = await ok(
          api.call('POST', '/deployments/profiles', {
            chartId: charts[0].id,
            name: release,
            values: {
              greeting: 'one',
              apiToken: randomBytes(12).toString('hex'),
            },
          }),
          'profile',
        );
        profileId = profile.id;
        const plan = await ok(
          api.call('POST', '/deployments/plans', {
            entityRef: 'component:default/payments-api',
            chartId: charts[0].id,
            target: 'local-admin',
            namespace: 'team-a',
            releaseName: release,
            profileId,
          }),
          'plan',
        );
        planId = plan.id;
        for (const kind of ['dry-run', 'preflight', 'apply']) {
          await operate(api, planId, kind);
        }
        await ok(
          api.call('PUT', `/deployments/profiles/${profileId}`, {
            values: {
              greeting: 'two',
              apiToken: randomBytes(12).toString('hex'),
            },
            secretPaths: ['/apiToken'],
          }),
          'profile revision 2',
          200,
        );
        for (const kind of ['dry-run', 'preflight', 'apply']) {
          await operate(api, planId, kind);
        }
        await ok(
          api.call('PUT', `/deployments/plans/${planId}`, {
            profileRevision: 2,
          }),
          'pin the profile revision',
          200,
        );
      });

      await step(
        'Profiles page: Upgrade… names the keys 0.2.0 dropped and added',
        async () => {
          await page.goto('/deployments/profiles');
          const upgrade = page.getByRole('button', {
            name: `Upgrade ${release} to another chart version`,
          });
          await visible(upgrade);
          await upgrade.click();
          const dialog = page.getByRole('dialog');
          await hasText(dialog.getByTestId('upgrade-dropped'), '/debug');
          await hasText(dialog.getByTestId('upgrade-added'), '/tracing');
          await hasText(dialog, 'carried over sealed');
        },
      );

      await step('upgrade the profile to 0.2.0', async () => {
        const dialog = page.getByRole('dialog');
        await dialog.getByRole('button', { name: 'Upgrade to 0.2.0' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await visible(page.getByText(/upgraded \(revision 3\)/));
      });

      await step(
        'the plan moves to 0.2.0: its dry-run shows the values and default values changing',
        async () => {
          const charts = await api.call(
            'GET',
            `/deployments/charts?name=valued`,
          );
          const next = charts.body.items.find(
            c => c.version === '0.2.0' && c.reference.includes(`/${release}/`),
          );
          await ok(
            api.call('PUT', `/deployments/plans/${planId}`, {
              chartId: next.id,
              profileRevision: 3,
            }),
            'move the plan',
            200,
          );
          await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
          await details(page).scrollIntoViewIfNeeded();
          await run(page, 'Dry-run');
          await operationFinished(page, 'succeeded');
          await page.goto(`${ENTITY_PAGE}/dry-run?plan=${planId}`);
          const change = page.getByTestId('values-change');
          await hasText(
            change,
            'moves the release from chart version 0.1.0 to 0.2.0',
            { timeout: 60_000 },
          );
          await hasText(
            change.getByTestId('default-values-diff'),
            '-debug: false',
          );
          await change.scrollIntoViewIfNeeded();
        },
      );

      await step(
        'the Helm history compares revision 1 with revision 2',
        async () => {
          await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
          const history = page.getByTestId('plan-history');
          await hasText(history, 'profile revision 2', { timeout: 60_000 });
          await history.scrollIntoViewIfNeeded();
          await history.getByRole('button', { name: 'Compare' }).click();
          const dialog = page.getByTestId('revision-diff-dialog');
          await hasText(
            dialog.getByTestId('history-values-diff'),
            '+greeting: two',
          );
          await hasText(dialog, '(hmac-sha256:');
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
      if (profileId) {
        await api.call('DELETE', `/deployments/profiles/${profileId}`);
      }
    }
  },
  { timeout: 600_000 },
);
