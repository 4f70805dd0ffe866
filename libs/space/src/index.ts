export * from './schema';
export { Space, encodeValue, decodeValue, valueProblem, type ParamDef } from './space';
export { parseSpace, loadSpaceFile, SpaceError, type LoadedSpace, type SourceLocation } from './parse';
export { NAME_PATTERN, NAME_RULE, NAME_MAX_LENGTH, nameSchema, nameProblem } from './names';
export { didYouMean, editDistance } from './did-you-mean';
