import { Chart } from '@kubedeploy/plugin-deployments-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  fakeDeploymentsApi,
  helloChart,
  helloProfile,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { ProfileEditorDialog } from './ProfileEditorDialog';

const chart: Chart = {
  ...helloChart,
  defaultValues:
    'replicaCount: 1\ngreeting: Hello from the portal\nimage:\n  repository: nginx\n  tag: "1.27"\n',
  valuesSchema: {
    $schema: 'https://json-schema.org/draft-07/schema#',
    type: 'object',
    required: ['replicaCount', 'greeting', 'apiToken'],
    properties: {
      replicaCount: {
        type: 'integer',
        title: 'Replicas',
        minimum: 0,
        maximum: 10,
      },
      greeting: { type: 'string', title: 'Greeting', minLength: 1 },
      image: {
        type: 'object',
        title: 'Container image',
        properties: {
          repository: { type: 'string', title: 'Repository' },
          tag: { type: 'string', title: 'Tag' },
        },
      },
      apiToken: {
        type: 'string',
        title: 'API token',
        writeOnly: true,
        format: 'password',
      },
    },
  },
};

async function renderEditor(
  options: {
    profile?: typeof helloProfile;
    api?: ReturnType<typeof fakeDeploymentsApi>;
  } = {},
) {
  const api = options.api ?? fakeDeploymentsApi();
  const onSaved = jest.fn();
  await renderDeployments(
    <ProfileEditorDialog
      open
      chart={chart}
      profile={options.profile}
      onSaved={onSaved}
      onClose={() => {}}
    />,
    { api },
  );
  const dialog = await screen.findByRole('dialog');
  await within(dialog).findByLabelText(/Replicas/);
  return { api, onSaved, dialog };
}

function change(element: HTMLElement, value: string) {
  fireEvent.change(element, { target: { value } });
}

describe('ProfileEditorDialog', () => {
  it('pre-fills the chart defaults and saves only the changes, after the backend validated them', async () => {
    const { api, onSaved, dialog } = await renderEditor();
    expect(within(dialog).getByLabelText(/Greeting/)).toHaveValue(
      'Hello from the portal',
    );
    expect(within(dialog).getByLabelText(/Repository/)).toHaveValue('nginx');
    const token = within(dialog).getByLabelText(/API token/);
    expect(token).toHaveAttribute('type', 'password');
    change(within(dialog).getByTestId('profile-name'), 'payments-dev');
    change(
      within(dialog).getByTestId('profile-owner'),
      ' group:default/payments ',
    );
    change(within(dialog).getByLabelText(/Replicas/), '3');
    change(token, 'tok-secret-1');
    const create = within(dialog).getByRole('button', {
      name: 'Create profile',
    });
    await waitFor(() => expect(create).toBeEnabled());
    fireEvent.click(create);
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const expected = {
      values: { replicaCount: 3, apiToken: 'tok-secret-1' },
    };
    expect(api.validateChartValues).toHaveBeenCalledWith(chart.id, expected);
    expect(api.createProfile).toHaveBeenCalledWith({
      chartId: chart.id,
      name: 'payments-dev',
      description: undefined,
      owner: 'group:default/payments',
      secretPaths: ['/apiToken'],
      ...expected,
    });
  });

  it('shows inline errors and blocks saving while a field is invalid', async () => {
    const { dialog } = await renderEditor();
    change(within(dialog).getByTestId('profile-name'), 'too-many');
    change(within(dialog).getByLabelText(/Replicas/), '11');
    expect(
      (await within(dialog).findAllByText(/must be at most 10/)).length,
    ).toBeGreaterThan(0);
    expect(
      within(dialog).getByRole('button', { name: 'Create profile' }),
    ).toBeDisabled();
  });

  it('says what a field expects, once, in words', async () => {
    const { dialog } = await renderEditor();
    change(within(dialog).getByLabelText(/Replicas/), '-1');
    const errors = await within(dialog).findAllByText('must be at least 0');
    // One message for the field, not one per rule or per list.
    expect(errors).toHaveLength(1);
  });

  it('checks the YAML as it is typed, syntax and schema, pointing at the line', async () => {
    const { dialog } = await renderEditor();
    fireEvent.click(within(dialog).getByRole('tab', { name: 'YAML' }));
    const yaml = await within(dialog).findByTestId('values-yaml');
    change(yaml, 'replicaCount: many\ngreeting: hi\nimage:\n  tag: 5\n');
    const problems = await within(dialog).findByTestId('values-yaml-problems');
    expect(problems).toHaveTextContent(
      'Line 1: Replicas: must be a whole number',
    );
    expect(problems).toHaveTextContent('Line 4: Tag: must be text');
    expect(
      within(dialog).getByRole('button', { name: 'Create profile' }),
    ).toBeDisabled();
    change(yaml, 'replicaCount: 1\ngreeting: hi\nimage: [a\n');
    expect(await within(dialog).findByText(/^Line \d+: /)).toBeInTheDocument();
    expect(
      within(dialog).queryByTestId('values-yaml-problems'),
    ).not.toBeInTheDocument();
  });

  it('checks a catastrophic-backtracking pattern as the user types without freezing', async () => {
    const hostile: Chart = {
      ...chart,
      valuesSchema: {
        ...chart.valuesSchema,
        properties: {
          ...(chart.valuesSchema?.properties as object),
          greeting: { type: 'string', title: 'Greeting', pattern: '^(a+)+$' },
        },
      },
    };
    await renderDeployments(
      <ProfileEditorDialog
        open
        chart={hostile}
        onSaved={() => {}}
        onClose={() => {}}
      />,
      { api: fakeDeploymentsApi() },
    );
    const dialog = await screen.findByRole('dialog');
    change(
      await within(dialog).findByLabelText(/Greeting/),
      `${'a'.repeat(40)}!`,
    );
    expect(
      (await within(dialog).findAllByText(/must match the pattern/)).length,
    ).toBeGreaterThan(0);
  });

  it('shows the violations the backend found and does not save', async () => {
    const api = fakeDeploymentsApi({
      validateChartValues: async () => ({
        violations: [{ path: '/greeting', message: 'must not say goodbye' }],
      }),
    });
    const { dialog } = await renderEditor({ api });
    change(within(dialog).getByTestId('profile-name'), 'bye');
    change(within(dialog).getByLabelText(/API token/), 'tok');
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Create profile' }),
    );
    expect(
      (await within(dialog).findAllByText('must not say goodbye')).length,
    ).toBeGreaterThan(0);
    expect(within(dialog).getByRole('alert')).toHaveTextContent(
      'do not match the chart schema',
    );
    expect(api.createProfile).not.toHaveBeenCalled();
  });

  it('keeps edits when switching between the form and YAML, and never shows secrets in YAML', async () => {
    const { api, dialog } = await renderEditor({ profile: helloProfile });
    // The stored secret is "set" and not required again.
    expect(
      within(dialog).getByText(
        'A value is stored (encrypted). Type a new one to replace it.',
      ),
    ).toBeInTheDocument();
    change(within(dialog).getByLabelText(/Greeting/), 'Hi from the form');
    change(within(dialog).getByLabelText(/API token/), 'tok-new');
    fireEvent.click(within(dialog).getByRole('tab', { name: 'YAML' }));
    const yaml = within(dialog).getByTestId(
      'values-yaml',
    ) as HTMLTextAreaElement;
    expect(yaml.value).toContain('greeting: Hi from the form');
    expect(yaml.value).toContain('replicaCount: 2');
    expect(yaml.value).not.toContain('tok-new');
    change(yaml, yaml.value.replace('replicaCount: 2', 'replicaCount: 4'));
    fireEvent.click(within(dialog).getByRole('tab', { name: 'Form' }));
    expect(within(dialog).getByLabelText(/Replicas/)).toHaveValue(4);
    expect(within(dialog).getByLabelText(/API token/)).toHaveValue('tok-new');

    fireEvent.click(
      within(dialog).getByRole('tab', { name: 'Changes since revision 2' }),
    );
    const changes = await within(dialog).findByTestId('profile-changes');
    await waitFor(() =>
      expect(changes).toHaveTextContent('+greeting: Hi from the form'),
    );
    expect(changes).toHaveTextContent('-replicaCount: 2');
    expect(changes).toHaveTextContent('+replicaCount: 4');
    expect(changes).toHaveTextContent('(secret, new value)');
    expect(changes).not.toHaveTextContent('tok-new');
    expect(api.getProfileRevision).toHaveBeenCalledWith(helloProfile.id, 2);

    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Save new revision' }),
    );
    await waitFor(() =>
      expect(api.updateProfile).toHaveBeenCalledWith(
        helloProfile.id,
        expect.objectContaining({
          expectedRevision: 2,
          values: {
            replicaCount: 4,
            greeting: 'Hi from the form',
            apiToken: 'tok-new',
          },
          secretPaths: ['/apiToken'],
        }),
      ),
    );
  });

  it('keeps a stored secret when its field is left empty', async () => {
    const { api, dialog } = await renderEditor({ profile: helloProfile });
    expect(within(dialog).getByTestId('profile-owner')).toHaveValue(
      'group:default/payments',
    );
    change(within(dialog).getByLabelText(/Replicas/), '5');
    const save = within(dialog).getByRole('button', {
      name: 'Save new revision',
    });
    await waitFor(() => expect(save).toBeEnabled());
    fireEvent.click(save);
    await waitFor(() =>
      expect(api.updateProfile).toHaveBeenCalledWith(
        helloProfile.id,
        expect.objectContaining({
          owner: 'group:default/payments',
          values: { replicaCount: 5 },
          secretPaths: ['/apiToken'],
        }),
      ),
    );
  });
});
