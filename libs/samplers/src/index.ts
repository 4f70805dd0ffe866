export { RandomSampler } from './random';
export { SobolSampler, SobolSequence, sobolSequence, SOBOL_MAX_DIMENSION } from './sobol';
export { TpeSampler, TPE_DEFAULTS, MO_TPE_DEFAULTS, type TpeOptions } from './tpe';
export { GpSampler, GP_DEFAULTS, type GpOptions } from './gp';
export { GaussianProcess } from './gaussian-process';
export { CmaEsSampler, CMAES_DEFAULTS, type CmaEsOptions } from './cmaes';
export { Nsga2Sampler, NSGA2_DEFAULTS, type Nsga2Options, type Crossover } from './nsga2';
export { driveSampler, fakeTrial, type DriveResult } from './drive';
export { SAMPLERS, createSampler } from './registry';
