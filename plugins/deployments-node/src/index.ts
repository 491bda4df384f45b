/**
 * Extension points through which backend modules extend the deployments plugin.
 *
 * @packageDocumentation
 */

export * from './extensions';
