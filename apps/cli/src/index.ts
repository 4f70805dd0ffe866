export { buildProgram, main } from './main';
export { runSearch, type SearchOptions } from './commands/search';
export { resolverModulePath } from './executor';
export { runStatus } from './commands/status';
export { resolveWorkload, loadModuleWorkload } from './workloads';
export { parseDuration, formatDuration } from './duration';
export { studyDocument, summaryText } from './study-report';
export { VERSION } from './version';
