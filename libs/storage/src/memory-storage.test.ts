import { MemoryStorage } from './memory-storage';
import { storageConformance } from './conformance';

storageConformance('memory', async () => new MemoryStorage());
