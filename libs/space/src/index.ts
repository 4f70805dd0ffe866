export * from './schema';
export { Space, encodeValue, decodeValue, valueProblem, type ParamDef } from './space';
export { parseSpace, loadSpaceFile, SpaceError, type LoadedSpace, type SourceLocation } from './parse';
export { didYouMean, editDistance } from './did-you-mean';
