/** Thrown by `ctx.report` when the scheduler stops the trial; the trial ends as `pruned`. */
export class Pruned extends Error {
  constructor(readonly step?: number) {
    super(step === undefined ? 'stopped by the scheduler' : `stopped by the scheduler at step ${step}`);
    this.name = 'Pruned';
  }
}

export function isPruned(e: unknown): boolean {
  return e instanceof Pruned || (typeof e === 'object' && e !== null && (e as { name?: string }).name === 'Pruned');
}
