export {
  DeploymentsStatusBanner,
  type DeploymentsStatusBannerProps,
} from './DeploymentsStatusBanner';
