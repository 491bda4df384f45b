/**
 * Isomorphic types, validation and permissions of the deployments plugin.
 *
 * @packageDocumentation
 */

export * from './permissions';
export * from './validation';
export * from './valuesHelp';
export * from './health';
export * from './keyring';
export * from './targets';
export * from './charts';
export * from './profiles';
export * from './releaseChanges';
export * from './plans';
export * from './operations';
export * from './approvals';
export * from './advisories';
export * from './schemaRegex';
export * from './sync';
