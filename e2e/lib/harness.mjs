// The browser-test harness: a real Chromium (playwright-core) against the
// portal that scripts/e2e started. A spec file imports `test` from here and
// gets a signed-in page, a `step` helper that screenshots after every step,
// and an `api` client for setup and cleanup. See e2e/README.md.
import { after, test as nodeTest } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const repoRoot = resolve(import.meta.dirname, '../..');

/** Where the portal runs, and where artifacts go; scripts/e2e sets these. */
export const config = {
  baseUrl: process.env.E2E_BASE_URL ?? 'http://127.0.0.1:7107',
  backendUrl:
    process.env.E2E_BACKEND_URL ??
    process.env.E2E_BASE_URL ??
    'http://127.0.0.1:7107',
  resultsDir: resolve(
    process.env.E2E_RESULTS_DIR ?? join(repoRoot, 'test-results/e2e'),
  ),
  chromium: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
  /** Playwright's timeout for one action or expectation. */
  actionTimeoutMs: Number(process.env.E2E_ACTION_TIMEOUT_MS ?? 20_000),
};

let browserPromise;
function browser() {
  browserPromise ??= chromium.launch({
    executablePath: config.chromium,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
  return browserPromise;
}
// One browser per spec file (node --test runs each file in its own process).
after(async () => {
  if (browserPromise) await (await browserPromise).close();
});

function slug(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}

/**
 * A small client of the portal's backend as the guest user, for setting up
 * and cleaning up what a spec needs. Never log what it returns verbatim: a
 * response may name (never contain) secrets, but keep the habit.
 */
export function createApiClient(
  backendUrl = config.backendUrl,
  providerId = 'guest',
) {
  let token;
  async function guestToken() {
    if (token) return token;
    const response = await fetch(
      `${backendUrl}/api/auth/${providerId}/refresh`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      },
    );
    if (!response.ok) {
      throw new Error(`${providerId} sign-in failed with ${response.status}`);
    }
    token = (await response.json()).backstageIdentity.token;
    return token;
  }
  return {
    /** `call('GET', '/deployments/targets')` → `{ status, body }`. */
    async call(method, path, body) {
      const response = await fetch(`${backendUrl}/api${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await guestToken()}`,
          'content-type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed };
    },
  };
}

/** Signs in with the guest provider ("Enter") and waits for the app shell. */
export async function signIn(page) {
  await page.goto('/');
  const enter = page.getByRole('button', { name: 'Enter' });
  // The sidebar's own <nav> has no box of its own; its items do.
  const sidebar = page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link', { name: 'Deployments' });
  await enter.or(sidebar).first().waitFor();
  if (await enter.isVisible()) await enter.click();
  await sidebar.waitFor();
}

/**
 * Declares one browser test. `body` receives:
 * - `page`: a Playwright page in a fresh browser context, already signed in
 *   as the guest user (pass `{ signIn: false }` to start signed out);
 * - `step(title, fn, { screenshot })`: runs `fn`, then saves a screenshot
 *   named after the step under test-results/e2e/<spec>/<test>/ (unless
 *   `screenshot: false`, for a screen that shows a secret); a failing step
 *   is saved as `…-FAILED.png` and its title is added to the error;
 * - `api`: see createApiClient;
 * - `as(providerId)`: another local user (`auth.providers.local-<name>`) in a
 *   browser context of its own, signed in: `{ page, step, api }`;
 * - `artifacts`: the test's artifact directory;
 * - `t`: node:test's context.
 */
export function test(name, body, options = {}) {
  const spec = basename(process.argv[1] ?? 'spec').replace(/\.spec\.mjs$/, '');
  return nodeTest(
    name,
    { timeout: options.timeout ?? 180_000, skip: options.skip },
    async t => {
      const artifacts = join(config.resultsDir, spec, slug(name));
      mkdirSync(artifacts, { recursive: true });
      const context = await (
        await browser()
      ).newContext({
        baseURL: config.baseUrl,
        acceptDownloads: true,
        viewport: { width: 1440, height: 900 },
      });
      context.setDefaultTimeout(config.actionTimeoutMs);
      const page = await context.newPage();
      const consoleErrors = [];
      page.on('console', message => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('pageerror', error => consoleErrors.push(String(error)));

      let counter = 0;
      /** A step function that screenshots `target` (a page). */
      const stepOn =
        target =>
        async (title, fn, { screenshot = true } = {}) => {
          counter += 1;
          const file = `${String(counter).padStart(2, '0')}-${slug(title)}`;
          try {
            const result = await fn();
            if (screenshot) {
              await target.screenshot({ path: join(artifacts, `${file}.png`) });
            }
            return result;
          } catch (error) {
            if (screenshot) {
              await target
                .screenshot({ path: join(artifacts, `${file}-FAILED.png`) })
                .catch(() => {});
            }
            if (error instanceof Error) {
              error.message = `step "${title}": ${error.message}`;
            }
            throw error;
          }
        };
      const step = stepOn(page);
      const contexts = [context];
      // Another local user (auth.providers.local-<name>) in a browser of its
      // own: the app's guest sign-in is answered by that provider instead.
      const as = async providerId => {
        const other = await (
          await browser()
        ).newContext({
          baseURL: config.baseUrl,
          viewport: { width: 1440, height: 900 },
        });
        contexts.push(other);
        other.setDefaultTimeout(config.actionTimeoutMs);
        await other.route('**/api/auth/guest/refresh*', async route => {
          const response = await route.fetch({
            url: route
              .request()
              .url()
              .replace('/api/auth/guest/', `/api/auth/${providerId}/`),
          });
          await route.fulfill({ response });
        });
        const otherPage = await other.newPage();
        otherPage.on('pageerror', error => consoleErrors.push(String(error)));
        const otherStep = stepOn(otherPage);
        await otherStep(`sign in as ${providerId}`, () => signIn(otherPage));
        return {
          page: otherPage,
          step: otherStep,
          api: createApiClient(config.backendUrl, providerId),
        };
      };

      try {
        if (options.signIn !== false) {
          await step('sign in as guest', () => signIn(page));
        }
        await body({ page, step, api: createApiClient(), as, artifacts, t });
      } catch (error) {
        if (consoleErrors.length) {
          writeFileSync(
            join(artifacts, 'browser-console-errors.txt'),
            `${consoleErrors.join('\n')}\n`,
          );
        }
        throw error;
      } finally {
        for (const open of contexts) await open.close();
      }
    },
  );
}

/** A name unique to this run, for objects a spec creates (`e2e-<what>-<random>`). */
export function uniqueName(what) {
  return `e2e-${what}-${Math.random().toString(36).slice(2, 8)}`;
}
