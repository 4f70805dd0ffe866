export { RandomSampler } from './random';
export { SAMPLERS, createSampler, rejectUnknownOptions } from './registry';
