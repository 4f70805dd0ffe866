"""COCO's bbob suite for bench/samplers.ts, from the coco-experiment package (the reference
implementation, so both sides optimise exactly the same problems).

    python bbob_peer.py serve    # evaluations for segtune over stdin/stdout
    python bbob_peer.py optuna   # Optuna's samplers on the same problems

serve: one JSON request per line, one answer per line:
  {"info": [f, d, i]}               -> {"fopt": optimum value, "lower": [...], "upper": [...]}
  {"p": [f, d, i], "x": [...]}      -> {"y": value}
optuna: a JSON list of jobs on stdin,
  {"id": ..., "p": [f, d, i], "sampler": "tpe" | "gp" | "cmaes", "trials": n, "seed": s}
  -> one line per job as it finishes: {"id": ..., "values": [value per trial], "seconds": wall}
Samplers are Optuna's defaults: TPESampler (multivariate for one objective in Optuna 5),
GPSampler, CmaEsSampler; all seeded with the job's seed. Params are x0..x{d-1} in [-5, 5].
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings

import cocoex
import numpy as np

_problems: dict[tuple[int, int, int], object] = {}


def problem(f: int, d: int, i: int):
    key = (f, d, i)
    if key not in _problems:
        suite = cocoex.Suite("bbob", "", f"dimensions:{d} instance_indices:{i} function_indices:{f}")
        _problems[key] = next(iter(suite))
    return _problems[key]


def fopt(p) -> float:
    # COCO writes the optimum's location (exact: bbob rounds it to four decimals) to a file.
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            p._best_parameter("print")
            x = np.atleast_1d(np.loadtxt("._bbob_problem_best_parameter.txt"))
        finally:
            os.chdir(cwd)
    return float(p(x))


def serve() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if "info" in req:
            p = problem(*req["info"])
            out = {"fopt": fopt(p), "lower": list(p.lower_bounds), "upper": list(p.upper_bounds)}
        else:
            out = {"y": float(problem(*req["p"])(np.asarray(req["x"], dtype=float)))}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def run_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    samplers = {
        "tpe": lambda s: optuna.samplers.TPESampler(seed=s),
        "gp": lambda s: optuna.samplers.GPSampler(seed=s),
        "cmaes": lambda s: optuna.samplers.CmaEsSampler(seed=s),
    }
    for job in json.load(sys.stdin):
        f, d, i = job["p"]
        p = problem(f, d, i)
        values: list[float] = []

        def objective(trial):
            x = np.array([trial.suggest_float(f"x{k}", -5.0, 5.0) for k in range(d)])
            y = float(p(x))
            values.append(y)
            return y

        study = optuna.create_study(sampler=samplers[job["sampler"]](job["seed"]))
        t0 = time.perf_counter()
        study.optimize(objective, n_trials=job["trials"])
        sys.stdout.write(json.dumps({"id": job["id"], "values": values, "seconds": time.perf_counter() - t0}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    {"serve": serve, "optuna": run_optuna}[sys.argv[1]]()
