export {
  AdvisoriesOverviewCard,
  type AdvisoriesOverviewCardProps,
} from './AdvisoriesOverviewCard';
export { AdvisoriesPage } from './AdvisoriesPage';
export { AdvisoryList, type AdvisoryListProps } from './AdvisoryList';
export { EntityAdvisoriesCard } from './EntityAdvisoriesCard';
