export { startDashboard, type Dashboard, type DashboardOptions } from './server';
export { StudyCache } from './study-cache';
export type {
  StudyPageData,
  StudySummary,
  TrialDocument,
  TrialRowDocument,
  TrialPageData,
  PickDocument,
  PickedDocument,
  ParetoData,
  HistoryData,
  IntermediateData,
  ParallelData,
  ParamAxis,
  UpdateEvent,
} from './page-data';
