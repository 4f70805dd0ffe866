"""Optuna peer for bench/schedulers.ts: SuccessiveHalvingPruner / HyperbandPruner with TPE,
driven through Optuna's ask-and-tell interface by a discrete-event simulation of N workers on a
virtual clock. The learning curves are not re-implemented here: for every new configuration this
script asks the TypeScript side (which runs libs/benchmarks' simulator) over stdout/stdin, one
JSON line each way, so both sides see exactly the same curves and costs.

Usage: python schedulers_peer.py '{"pruner": "hyperband", "workers": 16, "wall": 21600, "seed": 0,
        "min": 1, "max": 27, "eta": 3}'
Final line on stdout: {"result": {...}}.
"""
import heapq
import json
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

DISTRIBUTIONS = {
    "width": optuna.distributions.IntDistribution(8, 128, log=True),
    "depth": optuna.distributions.IntDistribution(2, 6),
    "lr": optuna.distributions.FloatDistribution(1e-4, 1.0, log=True),
    "batch_size": optuna.distributions.CategoricalDistribution([8, 16, 32, 64, 128]),
    "dropout": optuna.distributions.FloatDistribution(0.0, 0.5),
    "weight_decay": optuna.distributions.FloatDistribution(1e-6, 1e-1, log=True),
}


def curve(params):
    sys.stdout.write(json.dumps({"curve": params}) + "\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise SystemExit("the TypeScript side closed the pipe")
    return json.loads(line)


def main():
    cfg = json.loads(sys.argv[1])
    workers, wall, seed = cfg["workers"], cfg["wall"], cfg["seed"]
    lo, hi, eta = cfg["min"], cfg["max"], cfg["eta"]
    if cfg["pruner"] == "sh":
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=lo, reduction_factor=eta)
    else:
        pruner = optuna.pruners.HyperbandPruner(min_resource=lo, max_resource=hi, reduction_factor=eta)
    sampler = optuna.samplers.TPESampler(seed=seed)
    # A fixed name: HyperbandPruner assigns brackets by crc32(study name + trial number), and a
    # generated name (a random UUID) would make every run assign them differently.
    study = optuna.create_study(
        study_name="segtune-schedulers-bench", direction="maximize", sampler=sampler, pruner=pruner
    )

    heap, seq = [], 0
    now, free, busy = 0.0, workers, 0.0
    completions, trials = [], 0

    def start():
        nonlocal seq, trials
        trial = study.ask(DISTRIBUTIONS)
        c = curve(trial.params)
        trials += 1
        job = {"trial": trial, "step": 1, "values": c["values"], "cost": c["cost"], "true": c["true"], "start": now}
        heapq.heappush(heap, (now + job["cost"], seq, job))
        seq += 1

    while free > 0:
        free -= 1
        start()
    while heap:
        t, _, job = heapq.heappop(heap)
        if t > wall:
            busy += max(0.0, job["cost"] - (t - wall))
            continue
        now = t
        busy += job["cost"]
        step = job["step"]
        value = job["values"][step - 1]
        trial = job["trial"]
        trial.report(value, step)
        if step >= hi:
            study.tell(trial, value)
            completions.append({"time": now, "start": job["start"], "value": value, "true": job["true"]})
            free += 1
        elif trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            free += 1
        else:
            job["step"] = step + 1
            heapq.heappush(heap, (now + job["cost"], seq, job))
            seq += 1
        while free > 0 and now < wall:
            free -= 1
            start()
    result = {"trials": trials, "busy": busy, "completions": completions}
    sys.stdout.write(json.dumps({"result": result}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
