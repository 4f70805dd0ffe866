"""Optuna + PyTorch side of bench/e2e.ts: the same U-Net search as segtune's, the way an Optuna
user would write it. TPE with the successive-halving pruner (reduction factor 3, minimum 1
epoch, the same epochs budget), trials of several processes sharing one SQLite storage, each
process training on one thread. The data set is segtune's synthetic shapes, written to DIR by
bench/e2e.ts (raw float32 images NHWC, uint8 masks), so both sides learn from the same pixels.
Latency: median of 20 batch-1 forward passes after 5 warm-up passes, as segtune measures it.

usage: python e2e_optuna.py --data DIR --storage sqlite:///x.db --study NAME --trials N --seed S
Prints one JSON line when its trials are done.
"""
import argparse
import json
import math
import time

import numpy as np
import optuna
import torch
from torch import nn

from torch_unet import UNet


def unet(width, depth, bn, channels, classes):
    """The libs/seg U-Net (torch_unet.py's), with tfjs' batch-norm momentum and epsilon."""
    return UNet(width, depth, channels=channels, classes=classes, bn=bn, momentum=0.01, eps=1e-3)


def learning_rate(name, lr, e, total, warmup_epochs=0, step_size=3, step_factor=0.5, min_factor=0.0):
    """libs/seg/src/lr-schedule.ts's learningRate, at fractional epoch e of `total`."""
    if name == "step":
        lr *= step_factor ** math.floor(e / step_size)
    if name == "cosine":
        frac = min(1.0, max(0.0, (e - warmup_epochs) / (total - warmup_epochs))) if total > warmup_epochs else 0.0
        lr *= min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * frac))
    warm = 1 if (name == "warmup" and warmup_epochs == 0) else warmup_epochs
    if warm > 0 and e < warm:
        lr *= 0.05 + 0.95 * (e / warm)
    return lr


def miou(pred, truth, classes):
    """Mean IoU over the classes present in truth or prediction (as libs/seg's metrics)."""
    ious = []
    for c in range(classes):
        p, t = pred == c, truth == c
        union = np.logical_or(p, t).sum()
        if union:
            ious.append(np.logical_and(p, t).sum() / union)
    return float(np.mean(ious)) if ious else 0.0


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--data", required=True)
    a.add_argument("--storage", required=True)
    a.add_argument("--study", required=True)
    a.add_argument("--trials", type=int, required=True)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--max-epochs", type=int, default=9)
    args = a.parse_args()
    torch.set_num_threads(1)
    meta = json.load(open(f"{args.data}/meta.json"))
    h, w, ch, classes = meta["height"], meta["width"], meta["channels"], meta["classes"]

    def load(split):
        x = np.fromfile(f"{args.data}/{split}-images.f32", dtype=np.float32).reshape(-1, h, w, ch)
        y = np.fromfile(f"{args.data}/{split}-masks.u8", dtype=np.uint8).reshape(-1, h, w)
        return torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.from_numpy(y.astype(np.int64))

    xt, yt = load("train")
    xv, yv = load("val")
    max_epochs = args.max_epochs

    def objective(trial):
        width = trial.suggest_int("width", 4, 16, step=4)
        depth = trial.suggest_int("depth", 1, 3)
        lr = trial.suggest_float("lr", 3e-4, 3e-2, log=True)
        batch = trial.suggest_categorical("batch_size", [8, 16, 32])
        opt_name = trial.suggest_categorical("optimizer", ["adam", "adamw", "sgd"])
        wd = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True) if opt_name in ("adamw", "sgd") else 0.0
        schedule = trial.suggest_categorical("schedule", ["constant", "cosine", "step", "warmup"])
        bn = trial.suggest_categorical("batch_norm", [True, False])
        torch.manual_seed(trial.number)
        model = unet(width, depth, bn, ch, classes)
        if opt_name == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=lr)
        elif opt_name == "adamw":
            opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
        loss_fn = nn.CrossEntropyLoss()
        n = xt.shape[0]
        steps = math.ceil(n / batch)
        g = torch.Generator().manual_seed(trial.number)
        score = 0.0
        for epoch in range(max_epochs):
            model.train()
            order = torch.randperm(n, generator=g)
            for s in range(steps):
                for group in opt.param_groups:
                    group["lr"] = learning_rate(schedule, lr, epoch + s / steps, max_epochs)
                idx = order[s * batch:(s + 1) * batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xt[idx]), yt[idx])
                if not torch.isfinite(loss):
                    raise optuna.TrialPruned()  # diverged: as segtune, it stops this trial
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                pred = torch.cat([model(xv[i:i + 32]).argmax(1) for i in range(0, xv.shape[0], 32)]).numpy()
            score = miou(pred, yv.numpy(), classes)
            trial.report(score, epoch + 1)
            if trial.should_prune():
                raise optuna.TrialPruned()
        with torch.no_grad():
            one = xv[:1]
            for _ in range(5):
                model(one)
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                model(one)
                times.append((time.perf_counter() - t0) * 1000)
        trial.set_user_attr("latency_ms", float(np.median(times)))
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=args.study,
        storage=args.storage,
        direction="maximize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=args.seed),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    )
    study.optimize(objective, n_trials=args.trials)
    print(json.dumps({"done": args.trials, "optuna": optuna.__version__, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
