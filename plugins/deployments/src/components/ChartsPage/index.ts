export { ChartsPage } from './ChartsPage';
