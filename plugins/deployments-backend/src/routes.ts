import { HttpAuthService } from '@backstage/backend-plugin-api';
import { createOpenApiRouter } from './schema/openapi';
import { AuditTrail } from './audit/AuditTrail';
import { ResourceAuthorizer } from './permissions/ResourceAuthorizer';

/** The typed, request-validating router generated from src/schema/openapi.yaml. */
export type ApiRouter = Awaited<ReturnType<typeof createOpenApiRouter>>;

/** What every domain's routes need to authenticate, authorize and audit. */
export interface RouteContext {
  httpAuth: HttpAuthService;
  authorizer: ResourceAuthorizer;
  audit: AuditTrail;
}
