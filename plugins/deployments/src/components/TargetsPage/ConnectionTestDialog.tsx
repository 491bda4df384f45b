import {
  Progress,
  StructuredMetadataTable,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { TargetConnectionTestResult } from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Alert from '@material-ui/lab/Alert';
import { useEffect, useState } from 'react';
import { errorMessage } from '../shared';

interface RbacRow {
  namespace: string;
  check: string;
  allowed: boolean;
}

const rbacColumns: TableColumn<RbacRow>[] = [
  { title: 'Namespace', field: 'namespace' },
  { title: 'Check', field: 'check' },
  {
    title: 'Allowed',
    field: 'allowed',
    render: row => (row.allowed ? 'yes' : 'no'),
  },
];

function rbacRows(result: TargetConnectionTestResult): RbacRow[] {
  return result.rbac.flatMap(ns =>
    ns.checks.map(c => ({
      namespace: ns.namespace,
      check: `${c.verb} ${c.group ? `${c.resource}.${c.group}` : c.resource}`,
      allowed: c.allowed,
    })),
  );
}

/** Props of {@link ConnectionTestDialog}. */
export interface ConnectionTestDialogProps {
  /** The target to test; the dialog is open while set. */
  targetName?: string;
  test: (name: string) => Promise<TargetConnectionTestResult>;
  onClose: () => void;
}

/**
 * Runs a connection test with the stored credentials and shows the server
 * version, latency and what the credentials may do in the allowed namespaces.
 */
export function ConnectionTestDialog(props: ConnectionTestDialogProps) {
  const { targetName, test } = props;
  const [result, setResult] = useState<
    TargetConnectionTestResult | undefined
  >();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    if (!targetName) return undefined;
    let active = true;
    setResult(undefined);
    setError(undefined);
    test(targetName).then(
      value => active && setResult(value),
      e => active && setError(errorMessage(e)),
    );
    return () => {
      active = false;
    };
  }, [targetName, test]);

  return (
    <Dialog
      open={targetName !== undefined}
      onClose={props.onClose}
      maxWidth="md"
      fullWidth
    >
      <DialogTitle>Connection test: {targetName}</DialogTitle>
      <DialogContent data-testid="connection-test-result">
        {!result && !error && <Progress />}
        {error && (
          <Alert severity="error" role="alert">
            The test could not run: {error}
          </Alert>
        )}
        {result && (
          <>
            <Alert severity={result.reachable ? 'success' : 'error'}>
              {result.summary}
            </Alert>
            <StructuredMetadataTable
              metadata={{
                reachable: result.reachable ? 'yes' : 'no',
                'server version': result.serverVersion ?? '—',
                latency:
                  result.latencyMs !== undefined
                    ? `${Math.round(result.latencyMs)} ms`
                    : '—',
                ...(result.error ? { error: result.error } : {}),
                ...(result.reachable
                  ? {}
                  : {
                      'what to check':
                        'The API server URL and CA, that the cluster is up and reachable from the backend, and that the credentials are still valid (replace them if not).',
                    }),
              }}
            />
            {result.rbac.length > 0 && (
              <Box mt={2}>
                <Table<RbacRow>
                  title="RBAC in the allowed namespaces"
                  options={{ paging: false, search: false, padding: 'dense' }}
                  columns={rbacColumns}
                  data={rbacRows(result)}
                />
              </Box>
            )}
          </>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
