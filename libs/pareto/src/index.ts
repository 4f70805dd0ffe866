export { frontRanks, nonDominatedSort, paretoFront, type LossVector } from './nondominated-sort';
// One implementation, in core (whose bestTrials needs it and which may not import this package).
export { dominates } from '@segtune/core';
export { crowdingDistance, crowdingDistances } from './crowding-distance';
export { hypervolume, hypervolumeContributions, defaultReferencePoint } from './hypervolume';
export { kneeIndex } from './knee';
export { parsePickRule, pick, type PickPoint, type PickRule, type PickResult } from './pick';
export { paretoSummary, lossVector, type ParetoSummary } from './summary';
