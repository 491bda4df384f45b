// Understanding what failed, and reading the resources and logs of a
// release (issue 13): an install whose pod can never be scheduled fails
// with its cause kept in the operation (the pod's state, the scheduler's
// event), after helm removed it; a deployed release's resources as a tree
// with a drawer per object; the logs of all pods of a workload at once.
import { spawn } from 'node:child_process';
import { test, uniqueName } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';
import {
  details,
  draftHelloPlan,
  operationFinished,
  planStatus,
  run,
  waitIdle,
} from '../lib/plans.mjs';

const ENTITY_PAGE = '/catalog/default/component/payments-api';

/** kubectl as the cluster admin; `input` goes to its stdin. */
function kubectl(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', [
      '--kubeconfig',
      process.env.KUBEDEPLOY_KUBECONFIG,
      ...args,
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', chunk => (out += chunk));
    child.stderr.on('data', chunk => (err += chunk));
    child.on('error', reject);
    child.on('close', code =>
      code === 0 ? resolve(out) : reject(new Error(err.trim())),
    );
    child.stdin.end(input ?? '');
  });
}

/**
 * Until `signal` aborts, takes each pod of the release that cannot be
 * scheduled, sets it crashing as a kubelet reports a crash loop (with an IP,
 * so KWOK leaves it so), records the kubelet's BackOff event and binds it to
 * the KWOK node, which then serves its container's (fixture) logs.
 */
async function crashPendingPods(release, signal) {
  const done = new Set();
  while (!signal.aborted) {
    const list = JSON.parse(
      await kubectl([
        'get',
        'pods',
        '-n',
        'team-a',
        '-l',
        `app.kubernetes.io/instance=${release}`,
        '-o',
        'json',
      ]).catch(() => '{"items":[]}'),
    );
    for (const pod of list.items) {
      const name = pod.metadata.name;
      if (done.has(name) || pod.spec.nodeName || pod.metadata.deletionTimestamp)
        continue;
      done.add(name);
      const now = new Date().toISOString();
      await kubectl([
        'patch',
        'pod',
        name,
        '-n',
        'team-a',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            phase: 'Running',
            podIP: '10.0.250.9',
            podIPs: [{ ip: '10.0.250.9' }],
            hostIP: '10.0.0.1',
            startTime: now,
            conditions: [
              { type: 'PodScheduled', status: 'True' },
              { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
            ],
            containerStatuses: [
              {
                name: 'web',
                image: pod.spec.containers[0].image,
                imageID: '',
                ready: false,
                started: false,
                restartCount: 4,
                state: {
                  waiting: {
                    reason: 'CrashLoopBackOff',
                    message: `back-off 1m20s restarting failed container=web pod=${name}`,
                  },
                },
                lastState: {
                  terminated: { exitCode: 137, reason: 'OOMKilled' },
                },
              },
            ],
          },
        }),
      ]);
      await kubectl(
        ['create', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${name}.`, namespace: 'team-a' },
          involvedObject: {
            apiVersion: 'v1',
            kind: 'Pod',
            name,
            namespace: 'team-a',
            uid: pod.metadata.uid,
          },
          reason: 'BackOff',
          message: `Back-off restarting failed container web in pod ${name}`,
          type: 'Warning',
          count: 4,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'kubelet', host: 'kwok-node-0' },
        }),
      );
      await kubectl(
        [
          'create',
          '--raw',
          `/api/v1/namespaces/team-a/pods/${name}/binding`,
          '-f',
          '-',
        ],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name },
          target: { apiVersion: 'v1', kind: 'Node', name: 'kwok-node-0' },
        }),
      );
    }
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  return [...done];
}

async function helloChartId(api) {
  const charts = await api.call('GET', '/deployments/charts?name=hello');
  const chart = charts.body?.items?.find(c => c.version === '0.1.0');
  if (!chart) throw new Error('the seeded hello 0.1.0 chart is missing');
  return chart.id;
}

async function cleanUp(api, planId) {
  if (!planId) return;
  await waitIdle(api, planId);
  const plan = await api.call('GET', `/deployments/plans/${planId}`);
  await api.call('POST', `/deployments/plans/${planId}/uninstall`, {
    confirmReleaseName: plan.body?.releaseName,
  });
  await waitIdle(api, planId);
  await api.call('DELETE', `/deployments/plans/${planId}`);
}

test(
  'a failed install shows why: the pod that never ran and the scheduler’s event, kept after helm removed it',
  async ({ page, step, api }) => {
    const release = uniqueName('unschedulable');
    const profileName = uniqueName('too-big');
    let planId;
    let profileId;
    try {
      await step(
        'draft a plan whose pod asks for more CPU than the node has',
        async () => {
          const chartId = await helloChartId(api);
          const profile = await api.call('POST', '/deployments/profiles', {
            chartId,
            name: profileName,
            values: {
              resources: {
                requests: { cpu: '64', memory: '64Mi' },
                limits: { cpu: '64', memory: '128Mi' },
              },
            },
          });
          if (profile.status !== 201) {
            throw new Error(
              `profile: ${profile.status} ${profile.body?.error?.message}`,
            );
          }
          profileId = profile.body.id;
          const plan = await api.call('POST', '/deployments/plans', {
            entityRef: 'component:default/payments-api',
            chartId,
            target: 'local-team-a',
            namespace: 'team-a',
            releaseName: release,
            profileId,
            options: { timeoutSeconds: 20 },
          });
          if (plan.status !== 201) {
            throw new Error(
              `plan: ${plan.status} ${plan.body?.error?.message}`,
            );
          }
          planId = plan.body.id;
          await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
          await hasText(details(page), `Plan ${release}`);
        },
      );
      await step('dry-run and preflight pass', async () => {
        await run(page, 'Dry-run');
        await operationFinished(page, 'succeeded');
        await run(page, 'Preflight');
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'preflight passed');
      });
      await step(
        'apply: helm waits, the progress shows the pod and its event',
        async () => {
          await run(page, 'Apply');
          await hasText(
            page.getByTestId('operation-progress'),
            /Pod .*: not scheduled: Unschedulable/,
            { timeout: 60_000 },
          );
        },
      );
      await step('the failed install says why, once', async () => {
        await operationFinished(page, 'failed');
        const diagnosis = page.getByTestId('rollout-diagnosis');
        await hasText(diagnosis, 'not scheduled: Unschedulable');
        await hasText(diagnosis, 'FailedScheduling');
        await hasText(diagnosis, /Insufficient cpu/);
        // Once: in the operation's card, not again in the plan's message
        // or in the plans list. (The notification quotes it on its own
        // surface.)
        const error = /timed out after 20 s/;
        const where = await page.getByText(error).evaluateAll(nodes =>
          nodes.map(node => {
            const marked = node.closest('[data-testid]');
            return marked ? marked.getAttribute('data-testid') : node.tagName;
          }),
        );
        const inCard = await page
          .getByTestId('operation-progress')
          .getByText(error)
          .count();
        const inPlan = await page
          .getByTestId('plan-status-message')
          .getByText(error)
          .count();
        const inList = await page
          .getByRole('row')
          .filter({ hasText: error })
          .count();
        if (inCard !== 1 || inPlan !== 0 || inList !== 0) {
          throw new Error(
            `the error shows in the card ${inCard}, the plan ${inPlan}, the list ${inList} time(s); all: ${where.join(
              ', ',
            )}`,
          );
        }
        await diagnosis.scrollIntoViewIfNeeded();
      });
      await step(
        'the status banner names the failed release and links to its plan',
        async () => {
          await page.goto('/deployments');
          const banner = page.getByTestId('deployments-status-banner');
          await hasText(banner, release, { timeout: 30_000 });
          const link = banner
            .getByTestId('banner-plan-link')
            .filter({ hasText: release })
            .first();
          // The banner's details fold; open them when they are folded.
          if (!(await link.isVisible())) {
            await banner.getByRole('button').first().click();
          }
          await link.click();
          await page.waitForURL(new RegExp(`plan=${planId}`));
          await visible(page.getByText(`Plan ${release}`));
        },
      );
    } finally {
      await cleanUp(api, planId);
      if (profileId)
        await api.call('DELETE', `/deployments/profiles/${profileId}`);
    }
  },
  { timeout: 300_000 },
);

test(
  'a crash-looping install shows the crashed container’s last lines',
  async ({ page, step, api }) => {
    const release = uniqueName('crashloop');
    const profileName = uniqueName('crash');
    let planId;
    let profileId;
    try {
      await step(
        'draft a plan and pass its dry-run and preflight',
        async () => {
          const chartId = await helloChartId(api);
          const profile = await api.call('POST', '/deployments/profiles', {
            chartId,
            name: profileName,
            values: {
              resources: {
                requests: { cpu: '64', memory: '64Mi' },
                limits: { cpu: '64', memory: '128Mi' },
              },
            },
          });
          profileId = profile.body.id;
          const plan = await api.call('POST', '/deployments/plans', {
            entityRef: 'component:default/payments-api',
            chartId,
            target: 'local-team-a',
            namespace: 'team-a',
            releaseName: release,
            profileId,
            options: { timeoutSeconds: 20 },
          });
          if (plan.status !== 201) {
            throw new Error(
              `plan: ${plan.status} ${plan.body?.error?.message}`,
            );
          }
          planId = plan.body.id;
          await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
          await run(page, 'Dry-run');
          await operationFinished(page, 'succeeded');
          await run(page, 'Preflight');
          await operationFinished(page, 'succeeded');
        },
      );
      await step(
        'apply: the container crashes, the progress says so',
        async () => {
          const crashing = new AbortController();
          const crashed = crashPendingPods(release, crashing.signal);
          try {
            await run(page, 'Apply');
            await hasText(
              page.getByTestId('operation-progress'),
              /container web: CrashLoopBackOff, 4 restarts/,
              { timeout: 60_000 },
            );
            await operationFinished(page, 'failed');
          } finally {
            crashing.abort();
            await crashed;
          }
        },
      );
      await step(
        'the failed install shows the crashed container’s last lines',
        async () => {
          const diagnosis = page.getByTestId('rollout-diagnosis');
          await hasText(diagnosis, 'container web: CrashLoopBackOff');
          await hasText(diagnosis, /last ended OOMKilled \(exit code 137\)/);
          await hasText(
            diagnosis,
            /Last lines of .*\/web \(the instance that crashed\)/,
          );
          await hasText(
            diagnosis,
            'level=error msg="out of memory, exiting" code=137',
          );
          await diagnosis.getByText(/Last lines of/).scrollIntoViewIfNeeded();
        },
      );
    } finally {
      await cleanUp(api, planId);
      if (profileId)
        await api.call('DELETE', `/deployments/profiles/${profileId}`);
    }
  },
  { timeout: 300_000 },
);

test(
  'a deployed release: its resources as a tree, an object in a drawer, and the logs of all its pods at once',
  async ({ page, step, api }) => {
    const release = uniqueName('tree');
    let planId;
    try {
      await step('deploy hello with two replicas', async () => {
        planId = await draftHelloPlan(api, {
          target: 'local-team-a',
          releaseName: release,
        });
        await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
        await hasText(details(page), `Plan ${release}`);
        await run(page, 'Dry-run');
        await operationFinished(page, 'succeeded');
        await run(page, 'Preflight');
        await operationFinished(page, 'succeeded');
        await run(page, 'Apply');
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'deployed');
      });
      await step(
        'see the resource tree: Deployment → ReplicaSet → Pods',
        async () => {
          const resources = page.getByTestId('plan-resources');
          await hasText(page.getByTestId('resources-counts'), /Pods \(2\)/, {
            timeout: 60_000,
          });
          await visible(
            resources.getByTestId(`resource-Deployment-${release}`),
          );
          await visible(resources.getByText(/^ReplicaSet$/).first());
          await resources.scrollIntoViewIfNeeded();
        },
      );
      await step(
        'open the Deployment in the drawer: conditions, events, live YAML',
        async () => {
          await page
            .getByRole('button', { name: `Details of Deployment ${release}` })
            .click();
          const drawer = page.getByTestId('resource-drawer');
          await hasText(
            drawer.getByTestId('resource-yaml'),
            'kind: Deployment',
          );
          await hasText(drawer, 'Available');
          const yaml = await drawer.getByTestId('resource-yaml').textContent();
          if (yaml.includes('managedFields')) {
            throw new Error('the YAML shows managedFields');
          }
        },
      );
      await step(
        'open a pod in the drawer and follow its link to the logs',
        async () => {
          await page.keyboard.press('Escape');
          await page
            .getByTestId('resource-drawer')
            .waitFor({ state: 'hidden' });
          await page
            .getByRole('button', { name: /^Details of Pod / })
            .first()
            .click();
          const drawer = page.getByTestId('resource-drawer');
          await hasText(drawer.getByTestId('resource-yaml'), 'kind: Pod');
          await drawer
            .getByTestId('resource-drawer-logs')
            .getByRole('link', { name: 'web' })
            .click();
          await page.waitForURL(/\/logs\?plan=.*&pod=.*&container=web/);
          await hasText(page.getByTestId('logs-status'), /[1-9]\d* line\(s\)/, {
            timeout: 60_000,
          });
        },
      );
      await step(
        'read all pods of the Deployment at once, interleaved and prefixed',
        async () => {
          await page
            .getByTestId('logs-pod')
            .selectOption(`*workload:Deployment/${release}`);
          await hasText(
            page.getByTestId('logs-status'),
            /[1-9]\d* line\(s\) · 2 pod\(s\), interleaved by time/,
            { timeout: 60_000 },
          );
          const sources = await page
            .getByRole('log', { name: 'Log lines' })
            .locator('[data-line] span:nth-child(2)')
            .allTextContents();
          if (new Set(sources).size !== 2) {
            throw new Error(`lines from ${new Set(sources).size} pods`);
          }
        },
      );
      await step('search: the matching lines keep their numbers', async () => {
        await page.getByTestId('logs-filter').fill('slow upstream');
        await hasText(
          page.getByTestId('logs-status'),
          /^2 of [1-9]\d* line\(s\) shown/,
        );
        const numbers = await page
          .getByRole('log', { name: 'Log lines' })
          .locator('[data-line]')
          .evaluateAll(rows => rows.map(row => row.getAttribute('data-line')));
        if (numbers.includes('1') || numbers.length !== 2) {
          throw new Error(`line numbers ${numbers.join(',')}`);
        }
      });
    } finally {
      await cleanUp(api, planId);
    }
  },
  { timeout: 300_000 },
);
