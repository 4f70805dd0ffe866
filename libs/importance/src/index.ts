export { paramImportance, IMPORTANCE_METHODS, type ImportanceMethod, type ImportanceOptions, type ImportanceResult, type ParamImportance } from './importance';
export { importanceData, studyTargets, resolveTarget, targetName, PARETO_TARGET, MIN_TRIALS, type ImportanceData, type ImportanceTarget, type ImportanceTrial } from './importance-data';
export { pedAnova, type PedAnovaOptions } from './ped-anova';
export { fanovaPerTree, type FanovaOptions } from './fanova';
export { contourGrid, type ContourGrid } from './contour';
export { spaceFromTrials } from './infer-space';
