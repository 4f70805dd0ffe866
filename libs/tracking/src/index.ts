export {
  MlflowClient,
  MlflowError,
  isMlflowError,
  artifactPath,
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
export { splitBatch, buildBatches, BATCH_LIMITS, type RunBatch } from './mlflow-batches';
export { trialRunName } from './mlflow-runs';
export { OutboxPump, type Sink, type DeliveryFailure, type OutboxPumpOptions } from './outbox-pump';
export { MlflowTracker, createMlflowTracker, classifyMlflowError, MLFLOW_SINK, type MlflowTrackerOptions, type MlflowTrackerStatus } from './outbox-tracker';
export { resolveTrackingUri } from './tracking-uri';
