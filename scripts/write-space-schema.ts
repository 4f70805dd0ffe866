// Writes search-spaces/space.schema.json from the zod schema (the one source of truth).
import { writeFileSync } from 'node:fs';
import { spaceJsonSchema } from '../libs/space/src/schema';

writeFileSync(new URL('../search-spaces/space.schema.json', import.meta.url), `${JSON.stringify(spaceJsonSchema(), null, 2)}\n`);
