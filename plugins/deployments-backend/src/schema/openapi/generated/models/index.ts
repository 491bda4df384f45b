//

export * from '../models/AuditEntry.model';
export * from '../models/BackupUpload.model';
export * from '../models/ConnectionTestResult.model';
export * from '../models/ConnectionTestResultRbacInner.model';
export * from '../models/ConnectionTestResultRbacInnerChecksInner.model';
export * from '../models/CreateTargetRequest.model';
export * from '../models/ErrorError.model';
export * from '../models/GetHealth200Response.model';
export * from '../models/Impersonation.model';
export * from '../models/KeyringBackupVerification.model';
export * from '../models/KeyringSelfTestResult.model';
export * from '../models/KeyringSelfTestResultStepsInner.model';
export * from '../models/KeyringStatus.model';
export * from '../models/KeyringStatusRotation.model';
export * from '../models/ListAuditEntries200Response.model';
export * from '../models/ModelError.model';
export * from '../models/Passphrase.model';
export * from '../models/Target.model';
export * from '../models/TargetCredentials.model';
export * from '../models/TargetCredentialsInput.model';
export * from '../models/TargetList.model';
export * from '../models/TargetSettings.model';
