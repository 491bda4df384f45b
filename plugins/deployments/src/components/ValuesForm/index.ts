export { ValuesForm } from './ValuesForm';
export type { ValuesDraft, ValuesFormProps } from './ValuesForm';
export { ProfileEditorDialog } from './ProfileEditorDialog';
export type { ProfileEditorDialogProps } from './ProfileEditorDialog';
