import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { pathInside, studyOutputDir } from './output-path';
import { isUserError } from './user-error';

describe('pathInside', () => {
  it('resolves names inside the output folder', () => {
    expect(studyOutputDir('unet-a')).toBe(resolve('results', 'unet-a'));
    expect(pathInside('/tmp/out', 'study', 'trial-3')).toBe('/tmp/out/study/trial-3');
  });
  it('refuses names that leave it, in one line', () => {
    for (const bad of ['../../x', '..', '/etc', 'a/../../b', '.']) {
      let error: unknown;
      try {
        studyOutputDir(bad);
      } catch (e) {
        error = e;
      }
      expect(isUserError(error), bad).toBe(true);
      expect((error as Error).message).toMatch(/is not inside the output folder/);
    }
  });
});
