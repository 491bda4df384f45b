export interface Config {
  permission?: {
    /** Settings of the example deployments permission policy. */
    deployments?: {
      /**
       * The group that runs the platform: its members may do everything,
       * including deploying to production targets, approving changes,
       * adopting releases and overriding change windows.
       * Default `group:default/platform`.
       */
      platformGroup?: string;
    };
  };
}
