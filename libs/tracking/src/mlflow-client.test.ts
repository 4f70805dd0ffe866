import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { artifactPath, MlflowClient, type MlflowError } from './mlflow-client';
import { FakeMlflow, type Fault } from './testing/fake-mlflow';

describe('artifactPath', () => {
  it('drops the mlflow-artifacts scheme and authority', () => {
    expect(artifactPath('mlflow-artifacts:/3/abc/artifacts')).toBe('3/abc/artifacts');
    expect(artifactPath('mlflow-artifacts://host:5000/3/abc/artifacts/')).toBe('3/abc/artifacts');
  });

  it('refuses artifact stores the server does not proxy, in one line', () => {
    expect(() => artifactPath('file:///tmp/mlruns/1/abc/artifacts')).toThrow(/not served by the tracking server; start mlflow server with artifact serving/);
  });
});

describe('MlflowClient against a local HTTP server', () => {
  let server: FakeMlflow;
  beforeEach(async () => {
    server = await new FakeMlflow().start();
  });
  afterEach(async () => {
    await server.stop();
  });
  const client = (o: { retries?: number; timeoutMs?: number } = {}) => new MlflowClient({ uri: server.uri, baseDelayMs: 1, maxDelayMs: 2, ...o });
  /** The first `times` requests get `fault`. */
  const first = (times: number, fault: Fault) => () => (times-- > 0 ? fault : undefined);

  it('retries 5xx answers and succeeds', async () => {
    server.fault = first(2, { status: 503, code: 'TEMPORARILY_UNAVAILABLE' });
    const c = client({ retries: 2 });
    expect(await c.getOrCreateExperiment('e')).toBe('1');
    // get-by-name: 503, 503, 404 (not found, not retried); then create.
    expect(server.count('experiments/get-by-name')).toBe(3);
    expect(c.requests).toBe(4);
  });

  it('gives up after its retries on 5xx, with a retryable one-line error', async () => {
    server.fault = () => ({ status: 500 });
    const c = client({ retries: 2 });
    const e = (await c.getExperimentByName('e').catch((x: unknown) => x)) as MlflowError;
    expect(e.retryable).toBe(true);
    expect(e.status).toBe(500);
    expect(e.message).toBe('MLflow GET experiments/get-by-name failed: 500 INTERNAL_ERROR: injected 500');
    expect(c.requests).toBe(3);
  });

  it('does not retry a 4xx answer', async () => {
    server.fault = () => ({ status: 400, code: 'INVALID_PARAMETER_VALUE', message: 'no' });
    const c = client({ retries: 3 });
    const e = (await c.createExperiment('e').catch((x: unknown) => x)) as MlflowError;
    expect([e.status, e.code, e.retryable]).toEqual([400, 'INVALID_PARAMETER_VALUE', false]);
    expect(c.requests).toBe(1);
  });

  it('retries dropped connections, and reports them as unreachable when they persist', async () => {
    server.fault = first(2, { drop: true });
    const c = client({ retries: 2 });
    expect(await c.getExperimentByName('missing')).toBeUndefined();
    expect(c.requests).toBe(3);
    server.fault = () => ({ drop: true });
    const e = (await c.getExperimentByName('missing').catch((x: unknown) => x)) as MlflowError;
    expect(e.retryable).toBe(true);
    expect(e.status).toBeUndefined();
    expect(e.message).toMatch(new RegExp(`^MLflow unreachable at ${server.uri.replace(/\./g, '\\.')} \\(GET experiments/get-by-name: \\S+\\)$`));
  });

  it('gives up on a slow answer after its time limit', async () => {
    server.fault = () => ({ delayMs: 500 });
    const c = client({ retries: 0, timeoutMs: 50 });
    const e = (await c.getExperimentByName('e').catch((x: unknown) => x)) as MlflowError;
    expect(e.retryable).toBe(true);
    expect(e.message).toBe(`MLflow unreachable at ${server.uri} (GET experiments/get-by-name: no answer within 50 ms)`);
    expect(await c.health(50)).toBe(false);
  });

  it('sends a create-run once, even when its answer is lost', async () => {
    const c = client({ retries: 3 });
    const exp = await c.createExperiment('e');
    server.fault = () => ({ status: 503, when: 'after' });
    await expect(c.createRun({ experimentId: exp, runName: 'r' })).rejects.toThrow(/runs\/create failed: 503/);
    expect(server.count('runs/create')).toBe(1);
    expect(server.creates.get('r')).toBe(1);
  });

  it('answers health without throwing', async () => {
    const c = client();
    expect(await c.health()).toBe(true);
    server.fault = () => ({ drop: true });
    expect(await c.health()).toBe(false);
  });
});
