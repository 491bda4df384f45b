import { createApp } from '@backstage/frontend-defaults';
import { navModule } from './modules/nav';

// Plugins are discovered from this package's dependencies (app.packages: all),
// the deployments plugin among them.
export default createApp({
  features: [navModule],
});
