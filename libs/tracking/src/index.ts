export {
  MlflowClient,
  MlflowError,
  isMlflowError,
  splitBatch,
  artifactPath,
  BATCH_LIMITS,
  type MlflowClientOptions,
  type MlflowExperiment,
  type MlflowRun,
  type MlflowMetric,
  type KeyValue,
  type LogBatch,
  type RunStatus,
  type SearchRunsOptions,
} from './mlflow-client';
export { isValidKey, mapKey, mapKeys, truncateValue, paramValue, MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH } from './mlflow-keys';
export { MlflowTracker, createMlflowTracker, trialRunName, MLFLOW_SINK, type MlflowTrackerOptions } from './outbox-tracker';
export { resolveTrackingUri } from './tracking-uri';
