import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { spaceJsonSchema } from './schema';

describe('published JSON Schema', () => {
  it('search-spaces/space.schema.json is generated from the zod schema (run `npm run schema` after changing it)', () => {
    const published = JSON.parse(readFileSync(new URL('../../../search-spaces/space.schema.json', import.meta.url), 'utf8'));
    expect(published).toEqual(spaceJsonSchema());
    expect(Object.keys((published as { properties: object }).properties)).toEqual(expect.arrayContaining(['name', 'objectives', 'params', 'workload', 'budget', 'sampler', 'scheduler']));
  });
});
