import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';

const STATE_TEXT = {
  uninitialized: 'No keyring yet: bootstrap one before registering targets.',
  sealed:
    'Sealed: nothing that needs a credential can run until an administrator unlocks it.',
  unlocked: 'Unlocked: credentials can be used.',
} as const;

/** The keyring's state and fingerprint; never key material. */
export function KeyringCard() {
  const api = useApi(deploymentsApiRef);
  const { value, loading, error } = useAsync(
    () => api.getKeyringStatus(),
    [api],
  );

  if (loading)
    return (
      <InfoCard title="Keyring">
        <Progress />
      </InfoCard>
    );
  if (error)
    return (
      <ResponseErrorPanel title="Could not read the keyring" error={error} />
    );

  return (
    <InfoCard title="Keyring" subheader={STATE_TEXT[value!.state]}>
      {value!.state === 'uninitialized' ? (
        <Typography variant="body2">
          Bootstrap it with <code>POST /api/deployments/keyring/bootstrap</code>
          ; the admin screens for it are on their way.
        </Typography>
      ) : (
        <StructuredMetadataTable
          metadata={{
            state: value!.state,
            fingerprint: value!.fingerprint ?? '',
            created: value!.createdAt ?? '',
            'data keys': value!.dataKeyCount,
            'unlocked by': value!.unlockedBy ?? '—',
            rotation: value!.rotation
              ? `in progress to ${value!.rotation.pendingFingerprint}`
              : 'none',
          }}
        />
      )}
    </InfoCard>
  );
}
