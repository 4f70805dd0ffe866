import { UserError } from '@segtune/core';

/**
 * The MLflow tracking server to log to: the `--mlflow URL` flag, else the ecosystem's
 * `MLFLOW_TRACKING_URI`, else undefined (no tracking). Only http(s) servers are supported:
 * segtune talks to MLflow over its REST API. Trailing slashes are dropped.
 */
export function resolveTrackingUri(flag?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromFlag = flag !== undefined && flag.trim() !== '';
  const raw = fromFlag ? flag!.trim() : env.MLFLOW_TRACKING_URI?.trim();
  if (!raw) return undefined;
  const where = fromFlag ? '--mlflow' : 'MLFLOW_TRACKING_URI';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError(`${where} "${raw}" is not a URL; expected the http(s) address of an MLflow tracking server, e.g. http://127.0.0.1:5000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${where} "${raw}": segtune logs to an MLflow tracking server over HTTP; expected an http:// or https:// URL (start one with "mlflow server"), not ${url.protocol.replace(/:$/, '')}`);
  }
  return raw.replace(/\/+$/, '');
}
