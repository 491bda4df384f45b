import { useApi } from '@backstage/core-plugin-api';
import Grid from '@material-ui/core/Grid';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { KeyringBackupCard } from './KeyringBackupCard';
import { KeyringStatusCard } from './KeyringStatusCard';

/** The keyring tab: state and actions, and backups. */
export function KeyringPage() {
  const api = useApi(deploymentsApiRef);
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.getKeyringStatus(),
    [api],
  );

  return (
    <Grid container spacing={3}>
      <Grid item xs={12} lg={6}>
        <KeyringStatusCard
          status={value}
          loading={loading}
          error={error}
          onChanged={retry}
        />
      </Grid>
      {value && (
        <Grid item xs={12} lg={6}>
          <KeyringBackupCard status={value} onChanged={retry} />
        </Grid>
      )}
    </Grid>
  );
}
