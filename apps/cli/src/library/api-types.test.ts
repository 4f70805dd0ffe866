// Type-level tests of the library API: the `@ts-expect-error` lines must fail to compile, which
// the repository's `tsc --noEmit` (npm run typecheck) checks; the function is never called.
import { describe, it, expectTypeOf } from 'vitest';
import type { Trial } from './trial';
import { createStudy, type Study } from './study';

export function typeChecks(trial: Trial, study: Study): void {
  const lr: number = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
  const opt = trial.suggestCategorical('opt', ['adam', 'sgd']);
  expectTypeOf(opt).toEqualTypeOf<'adam' | 'sgd'>();
  expectTypeOf(trial.suggestCategorical('bn', [true, false])).toEqualTypeOf<boolean>();
  expectTypeOf(trial.suggestInt('depth', 2, 5)).toEqualTypeOf<number>();
  void lr;
  // @ts-expect-error a bound must be a number
  trial.suggestFloat('lr', '1e-4', 0.1);
  // @ts-expect-error unknown option
  trial.suggestFloat('lr', 1e-4, 0.1, { logarithmic: true });
  // @ts-expect-error suggestInt takes no choices
  trial.suggestInt('depth', [2, 3]);
  // @ts-expect-error choices must be strings, numbers or booleans
  trial.suggestCategorical('opt', [{ kind: 'adam' }]);
  // @ts-expect-error the result is 'adam' | 'sgd', not any string
  const wrong: 'rmsprop' = trial.suggestCategorical('opt', ['adam', 'sgd']);
  void wrong;
  // @ts-expect-error report needs a step and a value
  void trial.report(1);
  // @ts-expect-error an objective returns numbers, not strings
  void study.optimize(() => 'good');
  // @ts-expect-error tell takes values or a failed/pruned state
  void study.tell(trial, { state: 'complete' });
  // @ts-expect-error directions are minimize or maximize
  void createStudy({ directions: ['up'] });
}

describe('library API types', () => {
  it('compiles the checks above (see npm run typecheck)', () => {
    expectTypeOf(typeChecks).toBeFunction();
  });
});
