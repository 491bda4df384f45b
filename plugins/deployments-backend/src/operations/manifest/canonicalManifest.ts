import { InputError } from '@backstage/errors';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lib/canonicalJson';
import { checkManifestSize, parseManifestYaml } from './parseManifestYaml';

/**
 * Helm 4 marks each document it hands to a post-renderer with the template
 * it came from, and removes the mark again afterwards.
 */
export const POST_RENDER_SOURCE_ANNOTATION =
  'postrenderer.helm.sh/postrender-filename';
const HOOK_ANNOTATION = 'helm.sh/hook';

/** One object exactly as it is sent to the cluster. */
export interface CanonicalObject {
  /** The template it came from, when helm said. */
  source: string;
  /** 'apiVersion Kind namespace/name' as written (namespace empty when unset). */
  identity: string;
  /** Whether helm runs it as a hook rather than as part of the release. */
  hook: boolean;
  object: Record<string, unknown>;
  /** `sha256:<hex>` of the object's canonical JSON, without helm's source mark. */
  digest: string;
}

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The object without helm's post-render source mark (which helm removes before sending). */
function withoutSourceMark(object: Json): Json {
  const metadata = record(object.metadata);
  const annotations = record(metadata.annotations);
  if (!(POST_RENDER_SOURCE_ANNOTATION in annotations)) {
    return object;
  }
  const { [POST_RENDER_SOURCE_ANNOTATION]: _mark, ...rest } = annotations;
  const { annotations: _annotations, ...otherMetadata } = metadata;
  return {
    ...object,
    metadata: {
      ...otherMetadata,
      ...(Object.keys(rest).length > 0 && { annotations: rest }),
    },
  };
}

/** 'apiVersion Kind namespace/name', the way the object names itself. */
export function objectIdentity(object: Json): string {
  const metadata = record(object.metadata);
  return `${text(object.apiVersion)} ${text(object.kind)} ${text(
    metadata.namespace,
  )}/${text(metadata.name)}`;
}

/**
 * Reads a stream of rendered documents strictly (see parseManifestYaml: what
 * Go's YAML could read differently is refused) into the objects that will be
 * sent, each with its identity and digest.
 *
 * @throws InputError when the stream is too large, ambiguous or not objects
 */
export function readCanonicalObjects(
  manifest: string,
  options: { source: string },
): CanonicalObject[] {
  checkManifestSize(Buffer.byteLength(manifest, 'utf8'));
  return parseManifestYaml(manifest, options).map(({ source, object }) => {
    const annotations = record(record(object.metadata).annotations);
    const sent = withoutSourceMark(object);
    return {
      source: text(annotations[POST_RENDER_SOURCE_ANNOTATION]) || source,
      identity: objectIdentity(sent),
      hook: typeof annotations[HOOK_ANNOTATION] === 'string',
      object,
      digest: `sha256:${createHash('sha256')
        .update(canonicalJson(sent))
        .digest('hex')}`,
    };
  });
}

/**
 * JSON that every YAML reader reads the same way: only ASCII (everything
 * else escaped), no comments, no anchors, one document per object. Read by
 * helm (Go's YAML), not by JSON parsers: \U escapes are YAML's.
 */
export function canonicalDocument(object: Json): string {
  // By code point: Go's YAML refuses \u escapes of surrogate halves, so
  // characters outside the BMP are written as YAML's \U escape.
  return JSON.stringify(object).replace(/[\u{7f}-\u{10ffff}]/gu, char => {
    const code = char.codePointAt(0)!;
    return code > 0xffff
      ? `\\U${code.toString(16).padStart(8, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The objects as the documents helm receives back from the post-renderer. */
export function writeCanonicalManifest(objects: CanonicalObject[]): string {
  if (objects.length === 0) {
    throw new InputError('the chart renders no objects');
  }
  return objects
    .map(({ object }) => `---\n${canonicalDocument(object)}\n`)
    .join('');
}

/**
 * One digest for a set of objects, independent of their order and of how
 * helm formats them when it stores a release: what a dry-run checked, an
 * apply sent, and a release revision holds can be compared by it.
 */
export function objectSetDigest(
  objects: Pick<CanonicalObject, 'digest'>[],
): string {
  const digests = objects.map(o => o.digest).sort();
  return `sha256:${createHash('sha256')
    .update(digests.join('\n'))
    .digest('hex')}`;
}
