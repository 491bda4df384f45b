export {
  OBJECT_VERBS,
  RELEASE_STORAGE_VERBS,
  requiredAccess,
} from './requiredAccess';
export type { RequiredAccess } from './requiredAccess';
export { runPreflight } from './runPreflight';
export type { PreflightCheck, PreflightResult } from './runPreflight';
