"""Optuna side of bench/storage.ts: the same ask-plus-tell loop on Optuna's RDB storage.

  storage_peer.py sqlite URL BLOCKS...   one process, RandomSampler, a 2-D float space; times
                                         consecutive blocks of trials (e.g. 1000 1000) and
                                         prints {"blocks": [[trials, seconds], ...]}
  storage_peer.py pg URL PROCS SECONDS   PROCS processes on one study for SECONDS; prints
                                         {"cycles": total, "seconds": window}
"""

import json
import multiprocessing as mp
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def cycle(study, rng_seed):
    trial = study.ask()
    x1 = trial.suggest_float("x1", -5.0, 10.0)
    x2 = trial.suggest_float("x2", 0.0, 15.0)
    study.tell(trial, (x1 - 1.0) ** 2 + (x2 - 2.0) ** 2)


def sqlite_blocks(url, blocks):
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(storage=storage, study_name="peer", sampler=optuna.samplers.RandomSampler(seed=1))
    out = []
    for n in blocks:
        t0 = time.perf_counter()
        for _ in range(n):
            cycle(study, 1)
        out.append([n, time.perf_counter() - t0])
    print(json.dumps({"blocks": out}))


def pg_worker(url, name, seed, start_at, stop_at, counts, idx):
    storage = optuna.storages.RDBStorage(url)
    study = optuna.load_study(study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=seed))
    while time.time() < start_at:
        time.sleep(0.001)
    n = 0
    while time.time() < stop_at:
        cycle(study, seed)
        n += 1
    counts[idx] = n


def pg_parallel(url, procs, seconds):
    name = f"peer-{procs}-{time.time_ns()}"
    optuna.create_study(storage=optuna.storages.RDBStorage(url), study_name=name)
    counts = mp.Array("l", procs)
    # Every process connects and loads the study first; the timed window starts together.
    start_at = time.time() + 3.0 + 0.5 * procs
    stop_at = start_at + seconds
    ps = [mp.Process(target=pg_worker, args=(url, name, i + 1, start_at, stop_at, counts, i)) for i in range(procs)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    late = time.time() - stop_at
    print(json.dumps({"cycles": int(sum(counts)), "seconds": seconds, "per_process": list(counts), "late_s": late}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "sqlite":
        sqlite_blocks(sys.argv[2], [int(b) for b in sys.argv[3:]])
    elif mode == "pg":
        pg_parallel(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "version":
        print(json.dumps({"optuna": optuna.__version__}))
    else:
        raise SystemExit(f"unknown mode {mode}")
