// Helpers for specs that drive a release plan on an entity's Plan tab.
import { readFileSync } from 'node:fs';
import { hasText } from './expect.mjs';

/** Helm operations on the local cluster take seconds; waits allow for a busy machine. */
export const OPERATION_TIMEOUT = 180_000;

/** The details card of the chosen plan. */
export function details(page) {
  return page.getByTestId('plan-details');
}

/** Waits for the chosen plan's status chip to read `status`. */
export async function planStatus(page, status) {
  await hasText(details(page).getByTestId('plan-status').first(), status, {
    timeout: OPERATION_TIMEOUT,
  });
}

/** The button `name` of the plan's actions. */
export function planAction(page, name) {
  return details(page)
    .getByTestId('plan-actions')
    .getByRole('button', { name, exact: true });
}

/**
 * Clicks an operation button once its gate and permission allow it. Apply
 * asks for confirmation first; `run` confirms it (typing the release name
 * on a production target) unless `{ confirm: false }`.
 */
export async function run(page, name, { confirm = true } = {}) {
  const button = planAction(page, name);
  await button.waitFor();
  const deadline = Date.now() + 30_000;
  while (!(await button.isEnabled())) {
    if (Date.now() > deadline) throw new Error(`${name} stayed disabled`);
    await page.waitForTimeout(250);
  }
  await button.click();
  if (name === 'Apply' && confirm) await confirmApply(page);
}

/** Confirms the open apply dialog, typing the release name when asked. */
export async function confirmApply(page) {
  const dialog = page.getByRole('dialog');
  await dialog.getByTestId('apply-summary').waitFor();
  const title = (await dialog.getByRole('heading').first().textContent()) ?? '';
  const release = /^Apply (\S+) to /.exec(title)?.[1];
  const confirmation = dialog.getByLabel('Confirmation');
  if ((await confirmation.count()) > 0) await confirmation.fill(release ?? '');
  await dialog.getByRole('button', { name: 'Apply', exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** Waits until the followed operation finished with `status`. */
export async function operationFinished(page, status) {
  await hasText(page.getByTestId('operation-status'), status, {
    timeout: OPERATION_TIMEOUT,
  });
}

/** Waits (bounded) until no operation runs on the plan. */
export async function waitIdle(api, planId) {
  const deadline = Date.now() + OPERATION_TIMEOUT;
  while (Date.now() < deadline) {
    const plan = await api.call('GET', `/deployments/plans/${planId}`);
    if (plan.status !== 200 || !plan.body.runningOperationId) return;
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

/**
 * Registers a target on the local cluster with the limited team-a token
 * (`settings` adds to or overrides the defaults) and returns its name.
 */
export async function registerTeamATarget(api, name, settings = {}) {
  const created = await api.call('POST', '/deployments/targets', {
    name,
    displayName: `E2E ${name}`,
    apiServerUrl: process.env.KUBEDEPLOY_API_SERVER,
    caData: readFileSync(process.env.KUBEDEPLOY_CA_FILE, 'utf8'),
    allowedNamespaces: ['team-a'],
    namespaceOwners: [
      { namespace: 'team-a', owners: ['group:default/payments'] },
    ],
    credentials: {
      authKind: 'token',
      token: readFileSync(
        process.env.KUBEDEPLOY_LIMITED_TOKEN_FILE,
        'utf8',
      ).trim(),
    },
    ...settings,
  });
  if (created.status !== 201) {
    throw new Error(
      `registering target ${name} failed with ${created.status}: ${created.body?.error?.message}`,
    );
  }
  return name;
}

/**
 * Drafts a plan of hello 0.1.0 with the seeded `demo` profile for
 * payments-api on `target`/team-a and returns its id.
 */
export async function draftHelloPlan(api, { target, releaseName }) {
  const charts = await api.call('GET', '/deployments/charts?name=hello');
  const chart = charts.body?.items?.find(c => c.version === '0.1.0');
  if (!chart) throw new Error('the seeded hello 0.1.0 chart is missing');
  const profiles = await api.call(
    'GET',
    `/deployments/profiles?chartId=${chart.id}`,
  );
  const profile = profiles.body?.items?.find(p => p.name === 'demo');
  const plan = await api.call('POST', '/deployments/plans', {
    entityRef: 'component:default/payments-api',
    chartId: chart.id,
    target,
    namespace: 'team-a',
    releaseName,
    profileId: profile?.id,
  });
  if (plan.status !== 201) {
    throw new Error(
      `drafting the plan failed with ${plan.status}: ${plan.body?.error?.message}`,
    );
  }
  return plan.body.id;
}
