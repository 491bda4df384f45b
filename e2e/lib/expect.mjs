// Waiting assertions on top of Playwright locators, for node:test specs
// (playwright-core has no `expect`; @playwright/test is not installed).
import assert from 'node:assert/strict';

/** Waits until `locator` is visible; returns it. */
export async function visible(locator, options) {
  await locator.first().waitFor({ state: 'visible', ...options });
  return locator;
}

/** Waits until `locator`'s text matches `expected` (string: contains; RegExp: matches). */
export async function hasText(locator, expected, { timeout = 20_000 } = {}) {
  const deadline = Date.now() + timeout;
  let last = '';
  for (;;) {
    try {
      last = (await locator.first().textContent({ timeout: 2_000 })) ?? '';
      const ok =
        expected instanceof RegExp
          ? expected.test(last)
          : last.includes(expected);
      if (ok) return last;
    } catch {
      // not attached yet
    }
    if (Date.now() > deadline) {
      assert.fail(
        `expected text ${expected} in ${locator}, last saw: ${JSON.stringify(
          last.slice(0, 500),
        )}`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}
