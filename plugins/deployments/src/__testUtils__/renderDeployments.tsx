import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { convertLegacyRouteRef } from '@backstage/core-compat-api';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { DeploymentsApi, deploymentsApiRef } from '../api/DeploymentsApi';
import { rootRouteRef } from '../routes';

/**
 * Renders a deployments view in a test app with a fake DeploymentsApi, a
 * permission API that allows (or denies) everything, a collecting alert API
 * and a signed-in user (`user:default/guest` unless `userEntityRef` says).
 */
export async function renderDeployments(
  element: JSX.Element,
  options: {
    api: DeploymentsApi;
    deny?: boolean;
    userEntityRef?: string;
    /** The URL the app starts at, e.g. with a query. */
    initialRouteEntries?: string[];
  },
) {
  const alertApi = mockApis.alert();
  const rendered = renderInTestApp(element, {
    apis: [
      [deploymentsApiRef, options.api],
      mockApis.permission({
        authorize: options.deny ? AuthorizeResult.DENY : AuthorizeResult.ALLOW,
      }),
      alertApi,
      mockApis.identity({
        userEntityRef: options.userEntityRef ?? 'user:default/guest',
      }),
    ],
    ...(options.initialRouteEntries && {
      initialRouteEntries: options.initialRouteEntries,
    }),
    mountedRoutes: {
      '/deployments': convertLegacyRouteRef(rootRouteRef),
      '/catalog/:namespace/:kind/:name': convertLegacyRouteRef(entityRouteRef),
    },
  });
  return { rendered, alertApi };
}
