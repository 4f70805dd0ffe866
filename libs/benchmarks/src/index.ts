export * from './functions';
export * from './functions-workload';
export * from './simulator';
