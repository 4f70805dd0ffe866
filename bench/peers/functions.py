"""The analytic benchmark functions of libs/benchmarks/src/functions.ts, in numpy.

Benchmarks run Optuna on these so that both sides optimise the same functions; a vitest test
(libs/benchmarks/src/functions-peer.test.ts) checks that the two definitions agree at fixed
points. Every function minimises; params are named x1..xd (the mixed function: x1, x2, c).

    fn = get_benchmark("dtlz2(d=7, m=4)")
    fn.evaluate({"x1": 0.3, ...})            # -> list of objective values
    fn.suggest(trial)                        # -> params dict drawn with an optuna trial

Command line (used by the agreement test): `python functions.py eval` reads
[{"function": "branin", "points": [{...params}, ...]}, ...] as JSON on stdin and writes
[[[values...] per point] per entry] as JSON on stdout.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

# ---------------------------------------------------------------- single objective


def branin(x: np.ndarray) -> float:
    x1, x2 = x[0], x[1]
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return float((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10)


H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def hartmann6(x: np.ndarray) -> float:
    inner = np.sum(H6_A * (x[None, :] - H6_P) ** 2, axis=1)
    return float(-np.sum(H6_ALPHA * np.exp(-inner)))


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (x[:-1] - 1) ** 2))


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    s = np.sin(np.pi * w[0]) ** 2
    s += np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
    s += (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    return float(s)


def ackley(x: np.ndarray) -> float:
    d = len(x)
    return float(-20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d)) - np.exp(np.sum(np.cos(2 * np.pi * x)) / d) + 20 + math.e)


def styblinski_tang(x: np.ndarray) -> float:
    return float(np.sum(x**4 - 16 * x**2 + 5 * x) / 2)


MIXED_CATEGORIES = {"a": (0.0, 0.6), "b": (1.5, 0.0), "c": (-2.0, 0.3), "d": (3.0, 1.0)}  # shift, offset


def mixed(x1: float, x2: float, c: str) -> float:
    shift, offset = MIXED_CATEGORIES[c]
    return branin(np.array([x1 - shift, x2])) + offset


# ---------------------------------------------------------------- multi-objective


def zdt1(x: np.ndarray) -> list[float]:
    g = 1 + 9 * np.sum(x[1:]) / (len(x) - 1)
    f1 = x[0]
    return [float(f1), float(g * (1 - np.sqrt(f1 / g)))]


def zdt2(x: np.ndarray) -> list[float]:
    g = 1 + 9 * np.sum(x[1:]) / (len(x) - 1)
    f1 = x[0]
    return [float(f1), float(g * (1 - (f1 / g) ** 2))]


def dtlz2(x: np.ndarray, m: int) -> list[float]:
    g = np.sum((x[m - 1 :] - 0.5) ** 2)
    out = []
    for j in range(m):
        v = 1 + g
        for i in range(m - 1 - j):
            v *= np.cos(x[i] * np.pi / 2)
        if j > 0:
            v *= np.sin(x[m - 1 - j] * np.pi / 2)
        out.append(float(v))
    return out


# ---------------------------------------------------------------- registry


@dataclass
class Benchmark:
    name: str
    dimension: int
    # name -> ("float", low, high) | ("int", low, high) | ("categorical", choices)
    params: dict[str, tuple]
    n_objectives: int
    fn: Callable[[dict], list[float]]
    options: dict[str, int] = field(default_factory=dict)

    @property
    def directions(self) -> list[str]:
        return ["minimize"] * self.n_objectives

    def evaluate(self, params: dict) -> list[float]:
        return self.fn(params)

    def suggest(self, trial) -> dict:
        """Draws params with an optuna trial, with the same types and bounds as segtune's space."""
        out = {}
        for name, spec in self.params.items():
            if spec[0] == "float":
                out[name] = trial.suggest_float(name, spec[1], spec[2])
            elif spec[0] == "int":
                out[name] = trial.suggest_int(name, spec[1], spec[2])
            else:
                out[name] = trial.suggest_categorical(name, list(spec[1]))
        return out


def _box(name: str, bounds: list[tuple[float, float]], f: Callable[[np.ndarray], float | list[float]], m: int, options: dict) -> Benchmark:
    names = [f"x{i + 1}" for i in range(len(bounds))]

    def run(p: dict) -> list[float]:
        v = f(np.array([float(p[n]) for n in names]))
        return v if isinstance(v, list) else [v]

    return Benchmark(name, len(bounds), {n: ("float", lo, hi) for n, (lo, hi) in zip(names, bounds)}, m, run, options)


def _require(name: str, key: str, v: int, low: int) -> int:
    if int(v) != v or v < low:
        raise ValueError(f'benchmark "{name}": {key} must be an integer >= {low}, got {v}')
    return int(v)


def _build(name: str, o: dict[str, int]) -> Benchmark:
    if name == "branin":
        return _box(name, [(-5, 10), (0, 15)], branin, 1, {})
    if name == "hartmann6":
        return _box(name, [(0, 1)] * 6, hartmann6, 1, {})
    if name == "rosenbrock":
        d = _require(name, "d", o.get("d", 4), 2)
        return _box(name, [(-5, 10)] * d, rosenbrock, 1, {"d": d})
    if name == "levy":
        d = _require(name, "d", o.get("d", 6), 1)
        return _box(name, [(-10, 10)] * d, levy, 1, {"d": d})
    if name == "ackley":
        d = _require(name, "d", o.get("d", 4), 1)
        return _box(name, [(-32.768, 32.768)] * d, ackley, 1, {"d": d})
    if name == "styblinski_tang":
        d = _require(name, "d", o.get("d", 4), 1)
        return _box(name, [(-5, 5)] * d, styblinski_tang, 1, {"d": d})
    if name in ("zdt1", "zdt2"):
        d = _require(name, "d", o.get("d", 30), 2)
        return _box(name, [(0, 1)] * d, zdt1 if name == "zdt1" else zdt2, 2, {"d": d})
    if name == "dtlz2":
        m = _require(name, "m", o.get("m", 3), 2)
        d = _require(name, "d", o.get("d", 12), m)
        return _box(name, [(0, 1)] * d, lambda x: dtlz2(x, m), m, {"d": d, "m": m})
    if name == "mixed":
        params = {"x1": ("float", -5, 10), "x2": ("int", 0, 15), "c": ("categorical", tuple(MIXED_CATEGORIES))}
        return Benchmark(name, 3, params, 1, lambda p: [mixed(float(p["x1"]), float(p["x2"]), str(p["c"]))])
    raise ValueError(f'unknown benchmark function "{name}"; allowed: {", ".join(BENCHMARK_NAMES)}')


BENCHMARK_NAMES = ["branin", "hartmann6", "rosenbrock", "levy", "ackley", "styblinski_tang", "zdt1", "zdt2", "dtlz2", "mixed"]


def get_benchmark(spec: str) -> Benchmark:
    """`branin`, `rosenbrock(d=8)`, `dtlz2(d=7, m=4)`: the same names as the TypeScript registry."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_\-]+)\s*(?:\(([^()]*)\))?\s*", spec)
    if not m:
        raise ValueError(f"benchmark function {spec!r} is malformed")
    name = m.group(1).lower().replace("-", "_")
    options: dict[str, int] = {}
    if m.group(2) and m.group(2).strip():
        for part in m.group(2).split(","):
            k, v = part.split("=")
            options[k.strip()] = int(v)
    return _build(name, options)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] != "eval":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    requests = json.load(sys.stdin)
    out = []
    for req in requests:
        fn = get_benchmark(req["function"])
        out.append([fn.evaluate(p) for p in req["points"]])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
