export { frontRanks, nonDominatedSort, paretoFront, dominates, type LossVector } from './nondominated-sort';
export { crowdingDistance, crowdingDistances } from './crowding-distance';
export { hypervolume, hypervolumeContributions, defaultReferencePoint } from './hypervolume';
export { kneeIndex } from './knee';
export { parsePickRule, pick, type PickPoint, type PickRule, type PickResult } from './pick';
export { paretoSummary, lossVector, type ParetoSummary } from './summary';
