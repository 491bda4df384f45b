import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHelm } from './localStack';

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function pushBlob(
  registry: string,
  repository: string,
  bytes: Buffer,
): Promise<string> {
  const digest = digestOf(bytes);
  const started = await fetch(
    `http://${registry}/v2/${repository}/blobs/uploads/`,
    { method: 'POST' },
  );
  const location = started.headers.get('location');
  if (started.status !== 202 || !location) {
    throw new Error(`blob upload not started: HTTP ${started.status}`);
  }
  const url = new URL(location, `http://${registry}`);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  if (put.status !== 201) {
    throw new Error(`blob upload failed: HTTP ${put.status}`);
  }
  return digest;
}

/**
 * Pushes a minimal OCI image (a config blob, no layers) under a tag of a
 * local anonymous registry over plain http; `variant` makes the digest
 * differ between pushes of the same tag. Returns the manifest's digest.
 */
export async function pushTestImage(
  registry: string,
  repository: string,
  tag: string,
  variant = '',
): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { tag, variant } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const configDigest = await pushBlob(registry, repository, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [],
    }),
  );
  const put = await fetch(
    `http://${registry}/v2/${repository}/manifests/${tag}`,
    {
      method: 'PUT',
      headers: {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
      },
      body: manifest,
    },
  );
  if (put.status !== 201) {
    throw new Error(`manifest push failed: HTTP ${put.status}`);
  }
  return digestOf(manifest);
}

/**
 * Packages a chart from files and pushes it to `oci://<registry>/<path>`
 * with helm, as scripts/stack pushes the example charts.
 */
export async function pushTestChart(
  registry: string,
  path: string,
  files: Record<string, string>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kd-chart-'));
  try {
    const chartDir = join(dir, 'chart');
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(chartDir, name, '..'), { recursive: true });
      writeFileSync(join(chartDir, name), content);
    }
    const packaged = await runHelm(['package', chartDir, '-d', dir]);
    const tgz = /saved it to: (.*\.tgz)/.exec(packaged.stdout)?.[1];
    if (!tgz) throw new Error(`helm package said: ${packaged.stdout}`);
    await runHelm(['push', tgz, `oci://${registry}/${path}`, '--plain-http']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
