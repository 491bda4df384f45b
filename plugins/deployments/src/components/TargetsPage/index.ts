export { TargetsPage } from './TargetsPage';
