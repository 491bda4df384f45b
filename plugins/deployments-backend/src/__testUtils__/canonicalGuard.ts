import {
  readCanonicalObjects,
  writeCanonicalManifest,
} from '../operations/manifest/canonicalManifest';

/**
 * A post-render check for tests of the helm adapter alone: reads the
 * rendered documents strictly and hands helm their canonical JSON, checking
 * no boundary (operations/RenderGuard does that).
 */
export async function canonicalGuard(rendered: string): Promise<string> {
  return writeCanonicalManifest(
    readCanonicalObjects(rendered, { source: 'test' }),
  );
}
