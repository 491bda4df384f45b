import {
  Chart,
  formatViolation,
  ValuesViolation,
} from '@kubedeploy/plugin-deployments-common';
import { withTheme } from '@rjsf/core';
import { Theme as MuiTheme } from '@rjsf/material-ui';
import { ErrorSchema, RJSFValidationError } from '@rjsf/utils';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useEffect, useMemo, useState } from 'react';
import {
  formSchema,
  getAtPointer,
  parsePointer,
  parseValuesYaml,
  pointerToProperty,
  removeAtPointer,
  secretPathsFromSchema,
  setAtPointer,
  uiSchemaFor,
  Values,
  valuesToYaml,
} from './values';
import { valuesValidator } from './valuesValidator';
import {
  explainFormErrors,
  lineOf,
  propertyKeys,
  yamlSyntaxProblem,
} from './formErrors';

const Form = withTheme(MuiTheme);

/** What the editor holds now, reported on every change. */
export interface ValuesDraft {
  /** The full values (chart defaults merged in), new secret values included. */
  values: Values;
  /** Every path stored as a secret: the schema's, the stored ones and those marked here. */
  secretPaths: string[];
  /** Why the draft cannot be saved as it is (YAML that does not parse, invalid fields). */
  problem?: string;
}

/** Props of {@link ValuesForm}. */
export interface ValuesFormProps {
  chart: Chart;
  /** The values to start from: the chart's defaults merged with the profile's values. */
  initialValues: Values;
  /** Secret paths to start from (the profile's). */
  initialSecretPaths?: string[];
  /** Secret paths with a stored value, shown as "set" and kept when left empty. */
  storedSecretPaths?: string[];
  /** Violations the backend reported, shown at their fields. */
  violations?: ValuesViolation[];
  onChange: (draft: ValuesDraft) => void;
}

function errorSchemaOf(violations: ValuesViolation[]): ErrorSchema {
  let errors: Values = {};
  for (const violation of violations) {
    const keys = violation.path ? parsePointer(violation.path) : [];
    if (!keys) continue;
    const at = keys.length ? violation.path : '';
    const existing = (at ? getAtPointer(errors, at) : errors) as
      | Values
      | undefined;
    const messages = [
      ...((existing?.__errors as string[] | undefined) ?? []),
      violation.message,
    ];
    errors = at
      ? setAtPointer(errors, at, { ...(existing ?? {}), __errors: messages })
      : { ...errors, __errors: messages };
  }
  return errors as ErrorSchema;
}

/**
 * A chart's values as a typed form generated from its `values.schema.json`
 * (or as YAML, the escape hatch; switching keeps the edits). Secret fields
 * are masked: a stored secret shows as "set" and stays unless a new value is
 * typed. Secret values never appear in the YAML view.
 */
export function ValuesForm(props: ValuesFormProps) {
  const { chart, initialValues, storedSecretPaths = [], onChange } = props;
  const hasSchema = Boolean(chart.valuesSchema);
  const schemaSecrets = useMemo(
    () => secretPathsFromSchema(chart.valuesSchema),
    [chart.valuesSchema],
  );
  const [values, setValues] = useState<Values>(initialValues);
  const [secretPaths, setSecretPaths] = useState<string[]>(() => [
    ...new Set([
      ...schemaSecrets,
      ...storedSecretPaths,
      ...(props.initialSecretPaths ?? []),
    ]),
  ]);
  const [mode, setMode] = useState<'form' | 'yaml'>(
    hasSchema ? 'form' : 'yaml',
  );
  const [yamlText, setYamlText] = useState('');
  const [yamlError, setYamlError] = useState<string | undefined>();
  // Secrets typed in the form, held out of the YAML text while it is shown.
  const [secretsAside, setSecretsAside] = useState<Values>({});
  const [newSecretPath, setNewSecretPath] = useState('');

  // Keyed by content: callers may pass a new array on every render.
  const storedKey = storedSecretPaths.join('\n');
  const stored = useMemo(
    () => new Set(storedKey ? storedKey.split('\n') : []),
    [storedKey],
  );
  const schema = useMemo(
    () => formSchema(chart.valuesSchema),
    [chart.valuesSchema],
  );
  const uiSchema = useMemo(
    () => ({
      ...uiSchemaFor(secretPaths, stored),
      'ui:submitButtonOptions': { norender: true },
    }),
    [secretPaths, stored],
  );

  // A stored secret left empty is kept, so its field is not "missing".
  // (rjsf reports `.a.b` from the form and `a.b` from validateFormData.)
  // Errors read like help, once per field (formErrors.ts).
  const transformErrors = (errors: RJSFValidationError[]) =>
    explainFormErrors(
      errors.filter(
        error =>
          !(
            error.name === 'required' &&
            [...stored].some(
              path =>
                pointerToProperty(path).slice(1) ===
                (error.property ?? '').replace(/^\./, ''),
            )
          ),
      ),
      schema,
    );

  // Checked as the user types, in the form and in the YAML editor alike
  // (there with the secrets typed in the form, which it does not show).
  const clientErrors = useMemo(() => {
    if (!hasSchema || (mode === 'yaml' && yamlError !== undefined)) return [];
    const checked = mode === 'yaml' ? mergeAside(values, secretsAside) : values;
    return transformErrors(
      valuesValidator.validateFormData(checked, schema).errors,
    );
    // transformErrors only reads `stored` and `schema`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hasSchema, mode, yamlError, values, secretsAside, schema, stored]);

  // In the YAML editor each problem points at its line.
  const yamlProblems = useMemo(() => {
    if (mode !== 'yaml') return [];
    return clientErrors.map(error => ({
      line: lineOf(yamlText, propertyKeys(error.property)),
      text: error.stack,
    }));
  }, [mode, clientErrors, yamlText]);

  useEffect(() => {
    let problem: string | undefined;
    if (yamlError) problem = `The YAML does not parse: ${yamlError}`;
    else if (clientErrors.length > 0) {
      problem = `${clientErrors.length} field(s) need attention: ${clientErrors
        .slice(0, 3)
        .map(e => e.stack)
        .join('; ')}`;
    }
    const all = mode === 'yaml' ? mergeAside(values, secretsAside) : values;
    onChange({ values: all, secretPaths, problem });
  }, [
    values,
    secretPaths,
    yamlError,
    clientErrors,
    mode,
    secretsAside,
    onChange,
  ]);

  const toYaml = () => {
    let shown = values;
    let aside: Values = {};
    for (const path of secretPaths) {
      const value = getAtPointer(shown, path);
      if (value !== undefined) {
        aside = setAtPointer(aside, path, value);
        shown = removeAtPointer(shown, path);
      }
    }
    setSecretsAside(aside);
    setYamlText(valuesToYaml(shown));
    setYamlError(undefined);
    setMode('yaml');
  };

  const toForm = () => {
    const parsed = parseValuesYaml(yamlText);
    if ('error' in parsed) {
      setYamlError(parsed.error);
      return;
    }
    setValues(mergeAside(parsed.values, secretsAside));
    setSecretsAside({});
    setMode('form');
  };

  const editYaml = (text: string) => {
    setYamlText(text);
    const parsed = parseValuesYaml(text);
    if ('error' in parsed) {
      const syntax = yamlSyntaxProblem(text);
      setYamlError(
        syntax?.line !== undefined
          ? `Line ${syntax.line}: ${syntax.text}`
          : parsed.error,
      );
    } else {
      setYamlError(undefined);
      setValues(parsed.values);
    }
  };

  const addSecretPath = () => {
    const path = newSecretPath.trim();
    if (!parsePointer(path) || secretPaths.includes(path)) return;
    setSecretPaths([...secretPaths, path]);
    setNewSecretPath('');
  };
  const newSecretPathInvalid =
    newSecretPath.trim() !== '' && !parsePointer(newSecretPath.trim());

  return (
    <Box data-testid="values-form">
      <Tabs
        value={mode}
        onChange={(_, next) => (next === 'yaml' ? toYaml() : toForm())}
        indicatorColor="primary"
      >
        <Tab
          value="form"
          label="Form"
          disabled={!hasSchema || (mode === 'yaml' && yamlError !== undefined)}
        />
        <Tab value="yaml" label="YAML" />
      </Tabs>
      {!hasSchema && (
        <Alert severity="info" style={{ marginTop: 8 }}>
          This chart has no values.schema.json, so there is no form: edit the
          values as YAML. The backend checks them when you save.
        </Alert>
      )}
      <Box mt={2}>
        {mode === 'form' ? (
          <Form
            schema={schema}
            uiSchema={uiSchema}
            formData={values}
            validator={valuesValidator}
            onChange={event => setValues((event.formData ?? {}) as Values)}
            liveValidate
            showErrorList={false}
            noHtml5Validate
            transformErrors={transformErrors}
            extraErrors={errorSchemaOf(props.violations ?? [])}
          />
        ) : (
          <>
            <TextField
              id="deployments-values-yaml"
              label="Values (YAML)"
              value={yamlText}
              onChange={e => editYaml(e.target.value)}
              multiline
              minRows={12}
              maxRows={30}
              fullWidth
              variant="outlined"
              error={yamlError !== undefined}
              helperText={
                yamlError ??
                'Chart defaults are included; only what differs from them is stored.'
              }
              inputProps={{
                'data-testid': 'values-yaml',
                spellCheck: false,
                style: { fontFamily: 'monospace', fontSize: 13 },
              }}
            />
            {Object.keys(secretsAside).length > 0 && (
              <Typography variant="caption" color="textSecondary">
                Secret values typed in the form are kept aside, not shown here.
              </Typography>
            )}
            {yamlProblems.length > 0 && (
              <Alert
                severity="warning"
                style={{ marginTop: 8 }}
                data-testid="values-yaml-problems"
              >
                {yamlProblems.map(problem => (
                  <div key={`${problem.line}:${problem.text}`}>
                    {problem.line !== undefined ? `Line ${problem.line}: ` : ''}
                    {problem.text}
                  </div>
                ))}
              </Alert>
            )}
            {(props.violations ?? []).length > 0 && (
              <Alert severity="error" style={{ marginTop: 8 }}>
                {(props.violations ?? []).map(v => (
                  <div key={`${v.path}:${v.message}`}>{formatViolation(v)}</div>
                ))}
              </Alert>
            )}
          </>
        )}
      </Box>
      <Box mt={2}>
        <Typography variant="subtitle2">Secret values</Typography>
        <Typography variant="caption" color="textSecondary" component="p">
          Stored encrypted and never shown again; leave a stored secret empty to
          keep it.
        </Typography>
        <Box display="flex" flexWrap="wrap" style={{ gap: 4 }} my={1}>
          {secretPaths.length === 0 && (
            <Typography variant="body2" color="textSecondary">
              None.
            </Typography>
          )}
          {secretPaths.map(path => {
            const typed = getAtPointer(
              mode === 'yaml' ? mergeAside(values, secretsAside) : values,
              path,
            );
            let state = stored.has(path) ? 'set' : 'not set';
            if (typed !== undefined && typed !== '') state = 'new value';
            const removable =
              !schemaSecrets.includes(path) && typed === undefined;
            return (
              <Chip
                key={path}
                size="small"
                label={`${path}: ${state}`}
                data-testid="secret-path"
                onDelete={
                  removable
                    ? () => setSecretPaths(secretPaths.filter(p => p !== path))
                    : undefined
                }
              />
            );
          })}
        </Box>
        <Box display="flex" alignItems="flex-start" style={{ gap: 8 }}>
          <TextField
            id="deployments-secret-path"
            label="Mark a path secret"
            placeholder="/database/password"
            size="small"
            value={newSecretPath}
            onChange={e => setNewSecretPath(e.target.value)}
            error={newSecretPathInvalid}
            helperText={
              newSecretPathInvalid
                ? 'Use a JSON pointer such as /database/password'
                : ' '
            }
          />
          <Button
            size="small"
            onClick={addSecretPath}
            disabled={!newSecretPath.trim() || newSecretPathInvalid}
          >
            Mark secret
          </Button>
        </Box>
      </Box>
    </Box>
  );
}

function mergeAside(values: Values, aside: Values): Values {
  let merged = values;
  const walk = (node: unknown, keys: string[]) => {
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      for (const [key, child] of Object.entries(node))
        walk(child, [...keys, key]);
    } else {
      const path = `/${keys
        .map(k => k.replace(/~/g, '~0').replace(/\//g, '~1'))
        .join('/')}`;
      // A value typed in the YAML for the same path wins.
      if (getAtPointer(merged, path) === undefined) {
        merged = setAtPointer(merged, path, node);
      }
    }
  };
  walk(aside, []);
  return merged;
}
