// Values errors read like help in the browser: in a new profile for hello,
// the form says what a field expects by its title, and the YAML editor
// checks syntax and the chart's schema as the user types, pointing at the
// line; saving waits until the values fit. Nothing is stored.
import { test, uniqueName } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';

const dialog = page => page.getByRole('dialog');

test('values errors read like help: the form names the field, the YAML editor checks as you type and points at the line', async ({
  page,
  step,
  api,
}) => {
  const name = uniqueName('help');
  await step('open a new profile for hello', async () => {
    await page.goto('/deployments/profiles');
    await page.getByTestId('profiles-chart').selectOption({
      label: 'hello 0.1.0',
    });
    await page.getByRole('button', { name: 'New profile' }).click();
    await dialog(page).getByTestId('profile-name').fill(name);
    await visible(dialog(page).getByLabel('Replicas'));
  });

  await step(
    'the form: replicas above the maximum say what is expected',
    async () => {
      await dialog(page).getByLabel('Replicas').fill('12');
      await hasText(dialog(page), 'must be at most 10');
    },
  );

  await step(
    'the YAML editor: a syntax error names its line as it is typed',
    async () => {
      await dialog(page).getByLabel('Replicas').fill('2');
      await dialog(page).getByRole('tab', { name: 'YAML' }).click();
      await dialog(page)
        .getByTestId('values-yaml')
        .fill('replicaCount: 2\nimage: [unclosed\n');
      await hasText(dialog(page), /Line \d+: /);
    },
  );

  await step(
    "the YAML editor: a value the chart's schema refuses, by line and title",
    async () => {
      await dialog(page)
        .getByTestId('values-yaml')
        .fill(
          [
            'replicaCount: 2',
            'image:',
            '  repository: nginxinc/nginx-unprivileged',
            '  tag: 5',
            'greeting: Hello',
            'service:',
            '  port: 8080',
            '',
          ].join('\n'),
        );
      await hasText(
        dialog(page).getByTestId('values-yaml-problems'),
        'Line 4: Tag: must be text',
      );
      const create = dialog(page).getByRole('button', {
        name: 'Create profile',
      });
      if (await create.isEnabled()) {
        throw new Error('saving is offered while the values do not fit');
      }
    },
  );

  await step('fixed, the problems go and saving is offered', async () => {
    await dialog(page)
      .getByTestId('values-yaml')
      .fill(
        [
          'replicaCount: 2',
          'image:',
          '  repository: nginxinc/nginx-unprivileged',
          '  tag: "5"',
          'greeting: Hello',
          'service:',
          '  port: 8080',
          '',
        ].join('\n'),
      );
    await dialog(page)
      .getByTestId('values-yaml-problems')
      .waitFor({ state: 'detached' });
    await visible(dialog(page).getByRole('button', { name: 'Create profile' }));
    await dialog(page).getByRole('button', { name: 'Cancel' }).click();
    await dialog(page).waitFor({ state: 'hidden' });
    const profiles = await api.call('GET', '/deployments/profiles?limit=500');
    if (profiles.body.items.some(p => p.name === name)) {
      throw new Error('a cancelled profile was stored');
    }
  });
});
