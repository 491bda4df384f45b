export { MANIFEST_LIMITS } from './parseManifestYaml';
export type { ManifestDocument } from './parseManifestYaml';
export { parseRenderedRelease } from './parseRenderedRelease';
export type {
  RenderedHook,
  RenderedObject,
  RenderedRelease,
} from './parseRenderedRelease';
export { analyzeRelease, WARNING_CODES } from './analyzeRelease';
export type { ReleaseAnalysis, ReleaseWarning } from './analyzeRelease';
export { diffManifests } from './diffManifests';
export type { ManifestChange, ManifestChangeKind } from './diffManifests';
export {
  redactManifestYaml,
  redactSecretObject,
  secretMarker,
} from './redactSecretObject';
export type { RedactionOptions } from './redactSecretObject';
export { canonicalJson, inputsHash } from './inputsHash';
export type { ReleaseInputs } from './inputsHash';
