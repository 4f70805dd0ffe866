export { MemoryStorage } from './memory-storage';
export { SqliteStorage, SQLITE_SCHEMA_VERSION } from './sqlite-storage';
export { openStorage, absoluteStorageUrl, registerStorageScheme, maskUrl, DEFAULT_STORAGE, type StorageOpener } from './open-storage';
export { rowToTrial, rowToStudy, specToJson, type TrialRow, type StudyRow } from './rows';
export { PostgresStorage, openPostgresStorage, POSTGRES_SCHEMA_VERSION, type PostgresOptions, type RefusedTransition } from './postgres-storage';
