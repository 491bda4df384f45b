// Guest sign-in and the catalog with the example components.
import { signIn, test } from '../lib/harness.mjs';
import { visible } from '../lib/expect.mjs';

test(
  'a guest signs in with "Enter" and sees the example components',
  async ({ page, step }) => {
    await step('sign-in page offers the guest provider', async () => {
      await page.goto('/');
      await visible(page.getByRole('button', { name: 'Enter' }));
    });
    await step('enter as guest', () => signIn(page));
    await step('catalog lists the example components', async () => {
      // The guest owns some entities, so the catalog would open on "Owned".
      await page.goto('/?filters[kind]=component&filters[user]=all');
      for (const name of ['payments-api', 'storefront-web', 'Kubedeploy']) {
        await visible(page.getByRole('link', { name, exact: true }));
      }
    });
  },
  { signIn: false },
);
