export { KeyringPage } from './KeyringPage';
