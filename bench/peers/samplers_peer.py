"""Optuna side of bench/samplers.ts: runs the same functions, budgets and seeds with Optuna's
samplers and answers in JSON.

    python samplers_peer.py < jobs.json > results.json

Each job is one of
  {"id": ..., "mode": "optimize", "function": "branin", "sampler": "tpe", "trials": 100, "seed": 3}
      -> {"id": ..., "values": [[...objective values...] per trial], "seconds": wall time}
  {"id": ..., "mode": "overhead", "function": "hartmann6", "sampler": "tpe", "completed": 1000,
   "repeats": 5, "seed": 0, "history": "random" | "grow" | "self", "warmup": 2}
      -> {"id": ..., "ms": [milliseconds per suggestion, one per repeat]}
     history "random" (default): `completed` random trials, each timed suggestion told as failed
     so the history keeps its size; "grow": the same, but each timed suggestion is told complete
     with its value (warm-started models see one more trial each time, as in a running study);
     "self": the sampler itself runs `completed` trials first (CMA-ES learns only from its own).
Samplers: random, tpe (Optuna's defaults: multivariate for one objective in Optuna 5), gp,
cmaes, nsga2. Results are written one JSON object per line as each job finishes, so a long run
shows progress.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

import numpy as np
import optuna

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from functions import get_benchmark  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")


def make_sampler(kind: str, seed: int):
    s = optuna.samplers
    if kind == "random":
        return s.RandomSampler(seed=seed)
    if kind == "tpe":
        return s.TPESampler(seed=seed)
    if kind == "gp":
        return s.GPSampler(seed=seed)
    if kind == "cmaes":
        return s.CmaEsSampler(seed=seed)
    if kind == "nsga2":
        return s.NSGAIISampler(seed=seed)
    raise ValueError(f"unknown sampler {kind}")


def optimize(job: dict) -> dict:
    fn = get_benchmark(job["function"])
    study = optuna.create_study(directions=fn.directions, sampler=make_sampler(job["sampler"], job["seed"]))
    values: list[list[float]] = []

    def objective(trial):
        v = fn.evaluate(fn.suggest(trial))
        values.append([float(x) for x in v])
        return v[0] if len(v) == 1 else tuple(v)

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=job["trials"])
    return {"id": job["id"], "values": values, "seconds": time.perf_counter() - t0}


def distributions(fn) -> dict:
    d = optuna.distributions
    out = {}
    for name, spec in fn.params.items():
        if spec[0] == "float":
            out[name] = d.FloatDistribution(spec[1], spec[2])
        elif spec[0] == "int":
            out[name] = d.IntDistribution(spec[1], spec[2])
        else:
            out[name] = d.CategoricalDistribution(list(spec[1]))
    return out


def overhead(job: dict) -> dict:
    fn = get_benchmark(job["function"])
    rng = np.random.default_rng(job["seed"])
    dists = distributions(fn)
    mode = job.get("history", "random")
    study = optuna.create_study(sampler=make_sampler(job["sampler"], job["seed"]))
    if mode == "self":
        study.optimize(lambda t: fn.evaluate(fn.suggest(t))[0], n_trials=job["completed"])
    else:
        trials = []
        # A long warm-up (TPE's) joins the history first, so the timed suggestions see N trials;
        # as on our side, the default two start at N.
        warmup = job.get("warmup", 2)
        start = max(0, job["completed"] - warmup) if mode == "grow" and warmup > 2 else job["completed"]
        for _ in range(start):
            params = {n: float(rng.uniform(s[1], s[2])) for n, s in fn.params.items()}
            trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=fn.evaluate(params)[0]))
        study.add_trials(trials)
    ms = []
    for r in range(-job.get("warmup", 2), job["repeats"]):
        t0 = time.perf_counter()
        trial = study.ask()
        params = fn.suggest(trial)
        if r >= 0:  # untimed warm-up calls ("warmup", 2 unless given), as on our side
            ms.append((time.perf_counter() - t0) * 1000)
        if mode == "random":
            # Told as failed so the history keeps its size (failed trials are not evidence to Optuna).
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, fn.evaluate(params)[0])
    return {"id": job["id"], "ms": ms}


def main() -> None:
    jobs = json.load(sys.stdin)
    for job in jobs:
        out = optimize(job) if job["mode"] == "optimize" else overhead(job)
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
