"""How good and how fast are the models? Issue 11's bars and issue 13's items 6 and 7.

From the demo day's state (bench/season_state.py: the season so far in the warehouse):

- the walk-forward backtest (models_ml/backtest.py: retrain every 7 days, quick: 14; score each
  day only with models trained on earlier days), evaluated against the outcomes, the closing
  consensus and the sandbox's truth: per system, the points MAE, its ratio to the oracle's (the
  simulator's expectation given who played; target at most 1.05) and to the closing line's, the
  calibration error of P(over) (target at most 0.03), hit rate, ROI and CLV with their samples;
  its ratio to the pick-time line's MAE too (the bar a model at pick time realistically faces: the
  close knows the news after it), and backtest.md's reachable-bar section, printed;
- scoring throughput per system: the production scoring path on 200k rows of the slate's features
  with the models the daily job trained (target: 100k predictions a second for catboost), wall
  clock and per CPU second (a shared machine's wall clock measures the neighbours too).
"""

from __future__ import annotations

import time

from bench.core import Context, Figure
from bench.season_state import season_cache, warehouse_of
from models_ml import backtest, bench, registry, store
from models_ml.config import SYSTEMS, ModelsConfig, default_registry

ORACLE_RATIO_TARGET = 1.05
CALIBRATION_TARGET = 0.03
SCORING_TARGET = 100_000.0


def run(ctx: Context) -> list[Figure]:
    from sandbox.truth import player_game_truth

    warehouse = warehouse_of(season_cache())  # read-only: the backtest writes to ctx.scratch
    figures: list[Figure] = []

    started = time.perf_counter()
    truth = player_game_truth()
    truth = truth.assign(market=truth["market"].astype(str))
    report = backtest.run(
        warehouse,
        ctx.scratch / "backtest",
        retrain_every=14 if ctx.quick else 7,
        truth=truth,
        truth_note="the sandbox's truth",
    )
    figures.append(Figure("backtest_wall", time.perf_counter() - started, "s"))
    for system, blocks in sorted(report["results"].items()):
        points, every = blocks.get("points", {}), blocks["all"]
        oracle = points.get("oracle", {})
        closing = points.get("closing_line_mae", {})
        picks = every["picks"]
        mae_to_close = None
        if closing.get("mae") and closing.get("system_mae_same_rows") is not None:
            mae_to_close = closing["system_mae_same_rows"] / closing["mae"]
        # the bar a model at pick time realistically faces: the line it picks against
        pick_line = points.get("pick_line_mae", {})
        mae_to_pick_line = None
        if pick_line.get("mae") and pick_line.get("system_mae_same_rows") is not None:
            mae_to_pick_line = pick_line["system_mae_same_rows"] / pick_line["mae"]
        figures += _kept(
            (f"{system}.points_mae", points.get("mae"), "pts", "lower", None),
            (f"{system}.points_mae_to_oracle", oracle.get("ratio_to_oracle"), "x", "lower",
             ORACLE_RATIO_TARGET),
            (f"{system}.points_mae_to_closing_line", mae_to_close, "x", "lower", 1.0),
            (f"{system}.points_mae_to_pick_line", mae_to_pick_line, "x", "lower", None),
            (f"{system}.calibration_error", every["calibration_error"], "", "lower",
             CALIBRATION_TARGET),
            (f"{system}.hit_rate", picks["hit_rate"]["rate"], "", "higher", None),
            (f"{system}.roi", picks["roi"]["mean"], "", "higher", None),
            (f"{system}.clv", picks["clv_probability"]["mean"], "", "higher", None),
            (f"{system}.picks", picks["n"], "picks", None, None),
        )  # fmt: skip
        roi, clv = picks["roi"], picks["clv_probability"]
        low, high = (v if v is not None else float("nan") for v in roi["ci95"])
        print(
            f"{system:9} points MAE {points.get('mae') or 0:.3f} "
            f"(x{oracle.get('ratio_to_oracle') or 0:.3f} the oracle, "
            f"x{mae_to_close or 0:.3f} the closing line's {closing.get('mae') or 0:.3f}, "
            f"x{mae_to_pick_line or 0:.3f} the pick-time line's {pick_line.get('mae') or 0:.3f}), "
            f"calibration {every['calibration_error'] or 0:.3f}, "
            f"ROI {roi['mean'] or 0:+.3f} [{low:+.3f}, {high:+.3f}] n={picks['n']}, "
            f"CLV {clv['mean'] or 0:+.4f}"
        )

    # how far the bar (the closing line) is reachable: the same section as backtest.md's
    print("\n".join(backtest.bar_section(report)))

    config = ModelsConfig.from_env()
    con = store.connect(warehouse, read_only=True)
    try:
        features = store.read_features(con)
    finally:
        con.close()
    day = bench.scoring_date(features)
    models = {s: registry.latest(default_registry(warehouse), s, day) for s in SYSTEMS}
    speed = bench.measure(features, models, config=config, rows=200_000)
    for system, r in sorted(speed.items()):
        target = SCORING_TARGET if system == "catboost" else None
        figures += [
            Figure(f"{system}.scoring", r["per_second"], "pred/s", better="higher", target=target),
            Figure(f"{system}.scoring_per_cpu_s", r["per_cpu_second"], "pred/s", better="higher"),
        ]
        per_cpu = r["per_cpu_second"]
        print(f"{system:9} scores {r['per_second']:,.0f} a second ({per_cpu:,.0f} per CPU second)")
    return figures


def _kept(*specs: tuple) -> list[Figure]:
    """Figures of the values the backtest produced: a value it could not compute (no picks, no
    truth) is left out, never reported as a made-up 0."""
    return [
        Figure(name, float(value), unit, better=better, target=target)
        for name, value, unit, better, target in specs
        if value is not None
    ]
