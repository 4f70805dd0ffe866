"""Optuna side of bench/importance.ts: Optuna's importance evaluators on the same trials.

  importance_peer.py TRIALS.json METHOD   the file holds {"params": [names], "rows": [[x...]], "values": [y...]},
                                          every param a float on [0, 1]; METHOD is ped-anova or fanova;
                                          prints {"seconds": s, "importances": {name: v}}
One evaluator per process, so that the benchmark can stop one that runs too long.
"""

import json
import sys
import time

import optuna
from optuna.distributions import FloatDistribution
from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator, get_param_importances

optuna.logging.set_verbosity(optuna.logging.WARNING)


def main(path, method):
    with open(path) as f:
        data = json.load(f)
    names = data["params"]
    dists = {n: FloatDistribution(0.0, 1.0) for n in names}
    study = optuna.create_study(direction="minimize")
    study.add_trials(
        [
            optuna.trial.create_trial(params=dict(zip(names, row)), distributions=dists, value=value)
            for row, value in zip(data["rows"], data["values"])
        ]
    )
    evaluator = PedAnovaImportanceEvaluator() if method == "ped-anova" else FanovaImportanceEvaluator(seed=0)
    t0 = time.perf_counter()
    imp = get_param_importances(study, evaluator=evaluator, normalize=True)
    print(json.dumps({"seconds": time.perf_counter() - t0, "importances": {k: float(v) for k, v in imp.items()}}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
