/**
 * Backstage backend plugin that deploys Helm charts to Kubernetes through
 * audited release plans.
 *
 * @packageDocumentation
 */

export { deploymentsPlugin as default } from './plugin';
