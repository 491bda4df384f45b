import { InputError } from '@backstage/errors';
import {
  deploymentsKeyringBackupPermission,
  deploymentsKeyringManagePermission,
  deploymentsKeyringReadPermission,
} from '@kubedeploy/plugin-deployments-common';
import { ApiRouter, RouteContext } from '../routes';
import { KeyringService } from './KeyringService';

/** The keyring's HTTP surface; the rules live in KeyringService. */
export function createKeyringRoutes(
  router: ApiRouter,
  context: RouteContext & { keyring: KeyringService },
) {
  const { httpAuth, authorizer, audit, keyring } = context;

  router.get('/keyring', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const status = await audit.run(
      {
        eventId: 'keyring-read',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringReadPermission,
        );
        return keyring.status();
      },
    );
    res.json(status);
  });

  router.post('/keyring/bootstrap', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const status = await audit.run(
      {
        eventId: 'keyring-bootstrap',
        severityLevel: 'critical',
        request: req,
        credentials,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringManagePermission,
        );
        return keyring.bootstrap(
          req.body.passphrase,
          credentials.principal.userEntityRef,
        );
      },
    );
    res.status(201).json(status);
  });

  router.post('/keyring/unlock', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const status = await audit.run(
      {
        eventId: 'keyring-unlock',
        severityLevel: 'high',
        request: req,
        credentials,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringManagePermission,
        );
        return keyring.unlock(req.body.passphrase);
      },
    );
    res.json(status);
  });

  router.post('/keyring/seal', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const status = await audit.run(
      {
        eventId: 'keyring-seal',
        severityLevel: 'high',
        request: req,
        credentials,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringManagePermission,
        );
        await keyring.seal();
        return keyring.status();
      },
    );
    res.json(status);
  });

  router.post('/keyring/self-test', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const result = await audit.run(
      {
        eventId: 'keyring-self-test',
        severityLevel: 'medium',
        request: req,
        credentials,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringManagePermission,
        );
        return keyring.selfTest();
      },
    );
    res.json(result);
  });

  router.post('/keyring/backup', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const backup = await audit.run(
      {
        eventId: 'keyring-backup-export',
        severityLevel: 'critical',
        request: req,
        credentials,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringBackupPermission,
        );
        return keyring.exportBackup(req.body.passphrase);
      },
    );
    const stamp = backup.capturedAt.replace(/[:.]/g, '-');
    res
      .status(200)
      .type('application/octet-stream')
      .setHeader(
        'Content-Disposition',
        `attachment; filename="keyring-${backup.fingerprint.slice(
          -16,
        )}-${stamp}.kbk"`,
      )
      .send(backup.file.toString('utf8'));
  });

  router.post('/keyring/backup/verify', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const result = await audit.run(
      {
        eventId: 'keyring-backup-verify',
        severityLevel: 'medium',
        request: req,
        credentials,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringBackupPermission,
        );
        return keyring.verifyBackup(
          backupBytes(req.body.backup),
          req.body.passphrase,
        );
      },
    );
    res.json(result);
  });

  router.post('/keyring/restore', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const status = await audit.run(
      {
        eventId: 'keyring-restore',
        severityLevel: 'critical',
        request: req,
        credentials,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringManagePermission,
        );
        return keyring.restoreBackup(
          backupBytes(req.body.backup),
          req.body.passphrase,
        );
      },
    );
    res.json(status);
  });

  router.post('/keyring/rotate', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const status = await audit.run(
      {
        eventId: 'keyring-rotate',
        severityLevel: 'critical',
        request: req,
        credentials,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsKeyringManagePermission,
        );
        return keyring.rotate(
          req.body.passphrase,
          credentials.principal.userEntityRef,
        );
      },
    );
    res.json(status);
  });
}

function backupBytes(text: string): Buffer {
  if (!text) {
    throw new InputError('The backup file is empty');
  }
  return Buffer.from(text, 'utf8');
}
