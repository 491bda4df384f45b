export { DeploymentsPage, DeploymentsSubPage } from './DeploymentsPage';
export { KeyringPage } from '../KeyringPage';
export { TargetsPage } from '../TargetsPage';
export { ChartsPage } from '../ChartsPage';
export { AuditPage } from '../AuditPage';
export { OperationsPage } from '../OperationsPage';
export { AdvisoriesPage } from '../Advisories';
