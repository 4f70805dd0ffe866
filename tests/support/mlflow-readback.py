"""Reads an experiment back with MLflow's own Python client (the one users have), for the tests.

Usage: MLFLOW_TRACKING_URI=http://... python mlflow-readback.py EXPERIMENT_NAME
Prints JSON: every run (active ones) with params, tags, full metric histories and artifact paths.
"""
import json
import sys

import mlflow
from mlflow.tracking import MlflowClient


def artifact_paths(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            out.extend(artifact_paths(client, run_id, f.path))
        else:
            out.append(f.path)
    return out


def main():
    name = sys.argv[1]
    client = MlflowClient()
    exp = client.get_experiment_by_name(name)
    if exp is None:
        print(json.dumps({"experiment_id": None, "runs": []}))
        return
    runs = mlflow.search_runs(experiment_names=[name], output_format="list", max_results=50000)
    out = []
    for r in runs:
        metrics = {}
        for key in r.data.metrics:
            hist = client.get_metric_history(r.info.run_id, key)
            metrics[key] = sorted([m.step, m.value, m.timestamp] for m in hist)
        out.append({
            "run_id": r.info.run_id,
            "run_name": r.info.run_name,
            "status": r.info.status,
            "parent": r.data.tags.get("mlflow.parentRunId"),
            "params": r.data.params,
            "tags": r.data.tags,
            "metrics": metrics,
            "artifacts": artifact_paths(client, r.info.run_id),
        })
    print(json.dumps({"experiment_id": exp.experiment_id, "runs": out}))


if __name__ == "__main__":
    main()
