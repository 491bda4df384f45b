// Seeds the demo portal through its own API, as a user would: bootstraps the
// keyring (first run only) and registers the local cluster as two targets,
// the admin kubeconfig and the team-a ServiceAccount token, registers the
// example charts from the local registry, and drafts a release plan (with a
// values profile) for the payments-api component.
// Usage: node scripts/seed-demo.mjs  (the stack's variables in the environment)
import { readFileSync } from 'node:fs';

const backend = process.env.KUBEDEPLOY_BACKEND_URL ?? 'http://localhost:7007';
const passphrase = process.env.DEPLOYMENTS_KEYRING_PASSPHRASE;

async function waitForBackend() {
  for (let i = 0; i < 300; i++) {
    try {
      const response = await fetch(`${backend}/api/deployments/health`);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`the backend at ${backend} did not come up`);
}

async function guestToken() {
  const response = await fetch(`${backend}/api/auth/guest/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const body = await response.json();
  return body.backstageIdentity.token;
}

async function main() {
  await waitForBackend();
  const token = await guestToken();
  const call = async (method, path, body) => {
    const response = await fetch(`${backend}/api/deployments${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  };

  const keyring = await call('GET', '/keyring');
  if (keyring.body.state === 'uninitialized') {
    const created = await call('POST', '/keyring/bootstrap', { passphrase });
    console.log(`[seed-demo] keyring bootstrapped: ${created.status}`);
  } else if (keyring.body.state === 'sealed') {
    await call('POST', '/keyring/unlock', { passphrase });
  }

  const targets = [
    {
      name: 'local-admin',
      displayName: 'Local cluster (admin)',
      description: 'The local KWOK cluster with the admin kubeconfig',
      owner: 'group:default/platform',
      allowedNamespaces: ['team-*'],
      // Who may deploy where under the example policy: a component's owning
      // group deploys into the namespaces it owns.
      namespaceOwners: [
        { namespace: 'team-a', owners: ['group:default/payments'] },
        { namespace: 'team-b', owners: ['group:default/storefront'] },
      ],
      credentials: {
        authKind: 'kubeconfig',
        kubeconfig: readFileSync(process.env.KUBEDEPLOY_KUBECONFIG, 'utf8'),
      },
    },
    {
      name: 'local-team-a',
      displayName: 'Local cluster (team-a ServiceAccount)',
      description: 'A ServiceAccount token that may deploy to team-a only',
      owner: 'group:default/payments',
      apiServerUrl: process.env.KUBEDEPLOY_API_SERVER,
      caData: readFileSync(process.env.KUBEDEPLOY_CA_FILE, 'utf8'),
      allowedNamespaces: ['team-a'],
      namespaceOwners: [{ namespace: 'team-a', owners: ['group:default/payments'] }],
      credentials: {
        authKind: 'token',
        token: readFileSync(process.env.KUBEDEPLOY_LIMITED_TOKEN_FILE, 'utf8').trim(),
      },
    },
  ];
  for (const target of targets) {
    const existing = await call('GET', `/targets/${target.name}`);
    if (existing.status === 404) {
      const created = await call('POST', '/targets', target);
      console.log(`[seed-demo] target ${target.name}: ${created.status}`);
    } else {
      // The stack may have been recreated: refresh the credentials.
      await call('PUT', `/targets/${target.name}/credentials`, target.credentials);
      if (!existing.body.namespaceOwners?.length) {
        // Seeded before targets had namespace owners.
        await call('PATCH', `/targets/${target.name}`, {
          namespaceOwners: target.namespaceOwners,
        });
      }
    }
  }
  const charts = {};
  for (const chart of ['hello', 'broken', 'escape']) {
    const registered = await call('POST', '/charts', {
      reference: `oci://${process.env.KUBEDEPLOY_REGISTRY}/charts/${chart}`,
      version: '0.1.0',
    });
    charts[chart] = registered.body?.id;
    console.log(`[seed-demo] chart ${chart}: ${registered.status}`);
  }

  // A draft release plan for payments-api, ready for a dry-run in the portal.
  // The catalog reads the example entities shortly after start-up.
  const entityRef = 'component:default/payments-api';
  for (let i = 0; i < 120; i++) {
    const entity = await fetch(
      `${backend}/api/catalog/entities/by-name/component/default/payments-api`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (entity.ok) break;
    await new Promise(r => setTimeout(r, 1000));
  }
  const plans = await call('GET', `/plans?entityRef=${encodeURIComponent(entityRef)}`);
  if (plans.status === 200 && plans.body.totalCount === 0 && charts.hello) {
    const profiles = await call('GET', `/profiles?chartId=${charts.hello}`);
    let profile = profiles.body?.items?.find(p => p.name === 'demo');
    if (!profile) {
      const created = await call('POST', '/profiles', {
        chartId: charts.hello,
        name: 'demo',
        description: 'Two replicas greeting the demo',
        owner: 'group:default/payments',
        values: { replicaCount: 2, greeting: 'Hello from the demo portal' },
      });
      profile = created.body;
      console.log(`[seed-demo] values profile demo: ${created.status}`);
    }
    const plan = await call('POST', '/plans', {
      entityRef,
      chartId: charts.hello,
      target: 'local-team-a',
      namespace: 'team-a',
      releaseName: 'payments-api',
      profileId: profile?.id,
    });
    console.log(`[seed-demo] release plan payments-api: ${plan.status}`);
  }
  console.log('[seed-demo] demo data ready: open http://localhost:3000/deployments');
}

main().catch(error => {
  console.error(`[seed-demo] failed: ${error.message}`);
  process.exit(1);
});
