// The built-in segmentation workload: datasets, augmentation, the U-Net family, training,
// metrics and cost, export, and tfjs backends.
export { segmentationWorkload, resolutionOf, trainFinal, exportModel, estimateMemoryBytes, parseSegSpec, loadDataset, modelConfig, type SegWorkloadSpec, type FinalMetrics, type TrainFinalOptions } from './workload';
export { trialSettings, PARAM_DEFAULTS, KNOWN_PARAMS, type TrialSettings } from './config';
export type { SegDataset, SegSplit } from './dataset';
export { sampleOf, classFrequencies } from './dataset';
export { syntheticShapes, SHAPE_CLASSES, type SyntheticShapesOptions } from './synthetic-shapes';
export { syntheticStructures, STRUCTURE_CLASSES, type SyntheticStructuresOptions } from './synthetic-structures';
export { folderDataset, type FolderDatasetOptions } from './folder-dataset';
export { augmentSample, policyFromParams, presetPolicy, isIdentityPolicy, AUGMENT_OPS, AUGMENT_PRESETS, type AugmentPolicy, type AugmentOp, type OpSetting } from './augment';
export { buildUNet, unetStats, checkUNetConfig, ACTIVATIONS, type UNetConfig, type UNetStats, type Activation } from './unet';
export { SegOptimizer, OPTIMIZERS, type OptimizerConfig, type OptimizerName } from './optimizer';
export { learningRate, SCHEDULES, type ScheduleConfig, type ScheduleName } from './lr-schedule';
export { trainUNet, evaluate, type TrainConfig, type TrainHooks, type TrainResult, type EpochResult } from './train';
export { segLoss, checkLoss, LOSSES, DEFAULT_LOSS, type LossConfig, type LossName } from './losses';
export { classWeights, classPixelCounts, CLASS_WEIGHTINGS, type ClassWeighting } from './class-weights';
export { predictProbabilities, ttaPasses, TTA_MODES, type TtaMode } from './tta';
export { ConfusionMatrix, segMetrics, type SegMetrics } from './metrics';
export { measureLatency, coefficientOfVariation, estimateTrainingMemory, type LatencyOptions, type LatencyResult } from './cost';
export { saveModel, loadModel, fileSystemHandler } from './export';
export {
  initBackend,
  assertBackendAvailable,
  availableHint,
  nativeAvailable,
  BACKEND_NAMES,
  setupTensorflow,
  findInstall,
  segtuneHome,
  DEFAULT_TF_VERSION,
  probeInstall,
  describeBackends,
  type BackendReport,
  nativeBackendEnv,
  gpuVisible,
  type BackendInfo,
  type BackendName,
  type SetupOptions,
  type SetupResult,
  type TensorflowInstall,
  type NativeVariant,
  type ProbeResult,
} from './backend';
export { datasetFingerprint, type DatasetFingerprint, type FingerprintOptions } from './fingerprint';
export { planSearchSpace, type PlanInput, type PlanChoice, type SearchPlan } from './plan-space';
export { measureTrainingSpeed, type TrainingSpeed } from './training-speed';
export { writeFolderDataset } from './folder-writer';
export { resolutionScale, scaledSide, datasetAtSize, type ResolutionFidelity } from './resolution-fidelity';
export { exportTrialModel, type ExportTrialModelOptions } from './trial-model';
