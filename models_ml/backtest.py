"""Walk-forward backtest over the warehouse's season: how good the systems are, and how far from
the best possible.

Every N days the systems are retrained on games before that day and score the next N days, so no
day is scored by a model that saw it. Scoring is the production code path (`scoring.score`), in
memory, without reasons. The evaluation then reads what no model may: the outcomes, the closing
consensus (closing-line value), the books' pick-time prices (ROI at the price taken) and, when
given, the simulator's truth (the oracle: the expectation given who actually played).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models_ml import scoring, store
from models_ml.config import MARKETS, SYSTEMS, ModelsConfig
from models_ml.errors import ModelsError
from models_ml.train import fit_systems

Z95 = 1.959963984540054
LABEL_COLUMNS = ("did_play", "label_minutes_played", "actual_value")
CALIBRATION_BINS = np.linspace(0.0, 1.0, 11)

MARKET_SQL = """
with consensus as (
    select
        game_id, player_id, market, odds_event_id, player_name_key, pick_snapshot_at, pick_line,
        close_line, close_no_vig_over_probability
    from analytics.fct_prop_line_consensus
    where game_id is not null and player_id is not null
    qualify row_number() over (
        partition by game_id, player_id, market order by pick_n_books desc nulls last, odds_event_id
    ) = 1
),
prices as (
    select
        consensus.game_id, consensus.player_id, consensus.market,
        avg(lines.over_decimal_odds) as pick_over_price,
        avg(lines.under_decimal_odds) as pick_under_price,
        count(*) as pick_price_books
    from consensus
    inner join analytics.fct_prop_lines as lines
        on lines.odds_event_id = consensus.odds_event_id
        and lines.player_name_key = consensus.player_name_key
        and lines.market = consensus.market
        and lines.snapshot_at = consensus.pick_snapshot_at
        and lines.line = consensus.pick_line
        and lines.has_both_sides
    group by consensus.game_id, consensus.player_id, consensus.market
)
select
    consensus.game_id, consensus.player_id, consensus.market, consensus.close_line,
    consensus.close_no_vig_over_probability, prices.pick_over_price, prices.pick_under_price,
    prices.pick_price_books
from consensus
left join prices using (game_id, player_id, market)
"""


def _mean_ci(values: np.ndarray) -> dict[str, Any]:
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "ci95": [None, None]}
    mean = float(values.mean())
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
    return {"n": n, "mean": mean, "ci95": [mean - half, mean + half]}


def _wilson(wins: int, n: int) -> dict[str, Any]:
    if n == 0:
        return {"n": 0, "rate": None, "ci95": [None, None]}
    p = wins / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return {"n": n, "rate": p, "ci95": [centre - half, centre + half]}


def calibration(prob: np.ndarray, outcome: np.ndarray) -> tuple[float | None, pd.DataFrame]:
    """Expected calibration error (bins of 0.1, weighted by count) and the reliability table."""
    if len(prob) == 0:
        return None, pd.DataFrame(columns=["bin", "n", "mean_probability", "observed_rate"])
    bins = np.clip(np.digitize(prob, CALIBRATION_BINS[1:-1]), 0, 9)
    table = (
        pd.DataFrame({"bin": bins, "p": prob, "y": outcome.astype(float)})
        .groupby("bin")
        .agg(n=("p", "size"), mean_probability=("p", "mean"), observed_rate=("y", "mean"))
        .reset_index()
    )
    ece = float((table["n"] * (table["mean_probability"] - table["observed_rate"]).abs()).sum())
    return ece / len(prob), table


def walk_forward(
    rows: pd.DataFrame,
    types: dict[str, str],
    *,
    start: date,
    end: date,
    retrain_every: int,
    config: ModelsConfig,
    seed: int,
    systems: list[str],
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Prediction rows of every day in [start, end], each scored by models trained before the
    first day of its block."""
    features = rows.drop(columns=list(LABEL_COLUMNS))
    frames, retrains = [], []
    block_start = start
    while block_start <= end:
        block_end = min(block_start + timedelta(days=retrain_every - 1), end)
        days = (features["game_date"] >= block_start) & (features["game_date"] <= block_end)
        if days.any():
            trained = fit_systems(
                rows, through=block_start, types=types, systems=systems, config=config, seed=seed
            )
            models = {m.system: m for m in trained}
            preds = scoring.score(
                features.loc[days].reset_index(drop=True),
                models,
                run_id="backtest",
                config=config,
                predicted_at=pd.Timestamp("2000-01-01", tz="UTC").to_pydatetime(),
                with_reasons=False,
            )
            frames.append(preds)
            retrains.append(
                {
                    "through": block_start.isoformat(),
                    "scores": [block_start.isoformat(), block_end.isoformat()],
                    "training_rows": trained[0].metadata["training_window"]["rows"],
                    "versions": [m.version for m in trained],
                }
            )
        block_start = block_end + timedelta(days=1)
    if not frames:
        raise ModelsError(f"backtest: no feature rows between {start} and {end}")
    return pd.concat(frames, ignore_index=True), retrains


def graded(
    preds: pd.DataFrame, rows: pd.DataFrame, market: pd.DataFrame, truth: pd.DataFrame | None,
    config: ModelsConfig,
) -> pd.DataFrame:  # fmt: skip
    """Predicted rows with their outcome, the closing line, the price taken and the truth."""
    keys = ["game_id", "player_id", "market"]
    made = preds.loc[preds["skip_reason"].isna()].copy()
    labels = rows[[*keys, "did_play", "actual_value"]]
    made = made.merge(labels, on=keys, how="left").merge(market, on=keys, how="left")
    if truth is not None:
        made = made.merge(truth, on=["player_id", "game_date", "market"], how="left")
    played = made["did_play"].fillna(False).astype(bool) & made["actual_value"].notna()
    made["played"] = played
    actual, line = made["actual_value"], made["line"]
    over = made["recommendation"] == "OVER"
    side_wins = np.where(over, actual > line, actual < line)
    push = actual == line
    pick = (made["recommendation"] != "PASS") & played
    made["result"] = np.select(
        [~pick, push, side_wins.astype(bool)], ["no_pick", "push", "win"], default="loss"
    )
    nv_side = np.where(over, made["no_vig_over_probability"], 1 - made["no_vig_over_probability"])
    fallback = 1.0 / (nv_side * (1.0 + config.typical_overround))
    price = np.where(over, made["pick_over_price"], made["pick_under_price"])
    made["price_is_estimated"] = np.isnan(price.astype(float))
    made["price"] = np.where(made["price_is_estimated"], fallback, price)
    made["profit"] = np.select(
        [made["result"] == "win", made["result"] == "loss", made["result"] == "push"],
        [made["price"] - 1.0, -1.0, 0.0],
        default=np.nan,
    )
    close_side = np.where(
        over, made["close_no_vig_over_probability"], 1 - made["close_no_vig_over_probability"]
    )
    made["clv"] = np.where(pick, close_side - nv_side, np.nan)
    return made


def _metrics(group: pd.DataFrame, has_truth: bool) -> dict[str, Any]:
    played = group.loc[group["played"]]
    err = played["predicted_value"] - played["actual_value"]
    out: dict[str, Any] = {
        "n_predicted": len(group),
        "n_played": len(played),
        "mae": float(err.abs().mean()) if len(played) else None,
        "rmse": float(np.sqrt((err**2).mean())) if len(played) else None,
        "mae_of_median": float((played["predicted_median"] - played["actual_value"]).abs().mean())
        if len(played)
        else None,
    }
    with_close = played.loc[played["close_line"].notna()]
    out["closing_line_mae"] = {
        "n": len(with_close),
        "mae": float((with_close["close_line"] - with_close["actual_value"]).abs().mean())
        if len(with_close)
        else None,
        "system_mae_same_rows": float(
            (with_close["predicted_value"] - with_close["actual_value"]).abs().mean()
        )
        if len(with_close)
        else None,
    }
    out["pick_line_mae"] = {
        "n": len(played),
        "mae": float((played["line"] - played["actual_value"]).abs().mean())
        if len(played)
        else None,
        "system_mae_same_rows": out["mae"],
    }
    out["bar"] = _bar(with_close, has_truth)
    if has_truth:
        known = played.loc[played["expected_value"].notna()]
        oracle = float((known["expected_value"] - known["actual_value"]).abs().mean())
        system = float((known["predicted_value"] - known["actual_value"]).abs().mean())
        out["oracle"] = {
            "n": len(known),
            "oracle_mae": oracle,
            "oracle_median_mae": float(
                (known["oracle_median"] - known["actual_value"]).abs().mean()
            ),
            "system_mae_same_rows": system,
            "ratio_to_oracle": system / oracle if oracle else None,
        }
    decided = played.loc[played["actual_value"] != played["line"]]
    ece, _ = calibration(
        decided["probability_over"].to_numpy(dtype=float),
        (decided["actual_value"] > decided["line"]).to_numpy(),
    )
    market_ece, _ = calibration(
        decided["no_vig_over_probability"].to_numpy(dtype=float),
        (decided["actual_value"] > decided["line"]).to_numpy(),
    )
    out["calibration_error"] = ece
    out["market_calibration_error"] = market_ece
    picks = group.loc[group["result"].isin(["win", "loss", "push"])]
    wins, losses = int((picks["result"] == "win").sum()), int((picks["result"] == "loss").sum())
    out["picks"] = {
        "n": len(picks),
        "wins": wins,
        "losses": losses,
        "pushes": int((picks["result"] == "push").sum()),
        "hit_rate": _wilson(wins, wins + losses),
        "roi": _mean_ci(picks["profit"].to_numpy(dtype=float)),
        "share_priced_from_books": float((~picks["price_is_estimated"]).mean())
        if len(picks)
        else None,
        "clv_probability": _mean_ci(picks["clv"].to_numpy(dtype=float)),
    }
    return out


def _bar(rows: pd.DataFrame, has_truth: bool) -> dict[str, Any]:
    """The bars on the same rows (played, with a closing line and, given a truth, an oracle): the
    pick-time line (what a model at pick time is up against), the closing line (which knows the
    news between pick time and tip-off) and the oracle's median (the least MAE any model could
    reach); the system's mean and median; and how much of the outcome's gap to the pick-time
    line the system's gap to it and the close's move foresee (correlations)."""
    if has_truth:
        rows = rows.loc[rows["expected_value"].notna()]
    if len(rows) < 2:
        return {"n": len(rows)}
    actual = rows["actual_value"].to_numpy(dtype=float)
    line = rows["line"].to_numpy(dtype=float)

    def mae(column: str) -> float:
        return float(np.abs(rows[column].to_numpy(dtype=float) - actual).mean())

    def foresight(column: str) -> float | None:
        gap, outcome = rows[column].to_numpy(dtype=float) - line, actual - line
        if gap.std() == 0 or outcome.std() == 0:
            return None
        return float(np.corrcoef(gap, outcome)[0, 1])

    out: dict[str, Any] = {
        "n": len(rows),
        "system_mae": mae("predicted_value"),
        "system_median_mae": mae("predicted_median"),
        "pick_line_mae": mae("line"),
        "closing_line_mae": mae("close_line"),
        "system_gap_foresight": foresight("predicted_value"),
        "close_move_foresight": foresight("close_line"),
    }
    if has_truth:
        out["oracle_mae"] = mae("expected_value")
        out["oracle_median_mae"] = mae("oracle_median")
    return out


def evaluate(frame: pd.DataFrame, has_truth: bool) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for system, by_system in frame.groupby("system", sort=True):
        results[system] = {"all": _metrics(by_system, has_truth)}
        for market in MARKETS:
            part = by_system.loc[by_system["market"] == market]
            if len(part):
                results[system][market] = _metrics(part, has_truth)
    return results


def _plots(frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    for system, group in frame.groupby("system", sort=True):
        decided = group.loc[group["played"] & (group["actual_value"] != group["line"])]
        _, table = calibration(
            decided["probability_over"].to_numpy(dtype=float),
            (decided["actual_value"] > decided["line"]).to_numpy(),
        )
        ax.plot(table["mean_probability"], table["observed_rate"], marker="o", label=system)
    ax.set_xlabel("predicted P(over)")
    ax.set_ylabel("observed over rate")
    ax.set_title("Calibration of P(over), walk-forward")
    ax.legend()
    paths.append(out_dir / "calibration.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    for system, group in frame.groupby("system", sort=True):
        picks = group.loc[group["profit"].notna()].sort_values(
            ["game_date", "game_id", "player_id"]
        )
        daily = picks.groupby("game_date")["profit"].sum().cumsum()
        ax.plot(pd.to_datetime(daily.index), daily.to_numpy(), label=system)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("cumulative profit (units, 1 per pick)")
    ax.set_title("Cumulative profit at the pick-time price")
    ax.legend()
    fig.autofmt_xdate()
    paths.append(out_dir / "cumulative_profit.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths


def _fmt(value: Any, spec: str = ".3f") -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, spec)
    )


def _ci(block: dict[str, Any], key: str = "mean", spec: str = "+.3f") -> str:
    low, high = block["ci95"]
    return f"{_fmt(block[key], spec)} [{_fmt(low, spec)}, {_fmt(high, spec)}] (n={block['n']})"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Walk-forward backtest",
        "",
        f"Scored {report['window']['start']} to {report['window']['end']}, retrained every "
        f"{report['window']['retrain_every_days']} days ({len(report['retrains'])} retrains), "
        f"seed {report['seed']}. Prices: {report['notes']['prices']}",
        f"Oracle: {report['notes']['oracle']}",
        "",
        "| system | market | n | MAE | RMSE | oracle MAE | ratio "
        "| closing-line MAE (same rows: system) | pick-time line MAE "
        "| calibration error (market's) | hit rate | ROI | CLV (prob. points) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for system, markets in report["results"].items():
        for market, m in markets.items():
            oracle = m.get("oracle") or {}
            close = m["closing_line_mae"]
            picks = m["picks"]
            hit = picks["hit_rate"]
            lines.append(
                f"| {system} | {market} | {m['n_played']} | {_fmt(m['mae'])} | {_fmt(m['rmse'])} "
                f"| {_fmt(oracle.get('oracle_mae'))} | {_fmt(oracle.get('ratio_to_oracle'))} "
                f"| {_fmt(close['mae'])} ({_fmt(close['system_mae_same_rows'])}) "
                f"| {_fmt(m['pick_line_mae']['mae'])} "
                f"| {_fmt(m['calibration_error'])} ({_fmt(m['market_calibration_error'])}) "
                f"| {_fmt(hit['rate'])} [{_fmt(hit['ci95'][0])}, {_fmt(hit['ci95'][1])}] "
                f"| {_ci(picks['roi'])} | {_ci(picks['clv_probability'])} |"
            )
    lines += ["", *bar_section(report)]
    lines += ["", "![calibration](calibration.png)", "", "![profit](cumulative_profit.png)", ""]
    return "\n".join(lines)


def bar_section(report: dict[str, Any], market: str = "points") -> list[str]:
    """The reachable bar in words: the system against the pick-time line, the closing line and
    the oracle's median on the same rows, how far it is from each and what would move it."""
    bars = {s: m[market]["bar"] for s, m in report["results"].items() if market in m}
    bars = {s: b for s, b in bars.items() if "system_mae" in b}
    if not bars:
        return []
    first = next(iter(bars.values()))
    oracle = first.get("oracle_median_mae")
    out = [
        f"## The reachable bar ({market}, {first['n']} rows he played with a closing line"
        + (" and an oracle)" if oracle is not None else ")"),
        "",
        "| system | MAE (mean) | MAE (median) | pick-time line | closing line | oracle median "
        "| to the pick-time line | to the close "
        "| corr. of its gap to the line with the outcome's "
        "| corr. of the close's move with the outcome's gap |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for system, b in bars.items():
        out.append(
            f"| {system} | {_fmt(b['system_mae'])} | {_fmt(b['system_median_mae'])} "
            f"| {_fmt(b['pick_line_mae'])} | {_fmt(b['closing_line_mae'])} "
            f"| {_fmt(b.get('oracle_median_mae'))} "
            f"| {_fmt(b['system_mae'] - b['pick_line_mae'], '+.3f')} "
            f"| {_fmt(b['system_mae'] - b['closing_line_mae'], '+.3f')} "
            f"| {_fmt(b['system_gap_foresight'], '+.3f')} "
            f"| {_fmt(b['close_move_foresight'], '+.3f')} |"
        )
    pick, close = first["pick_line_mae"], first["closing_line_mae"]
    out += [
        "",
        f"A model picks at pick time, so the bar it realistically faces is the pick-time line "
        f"({pick:.3f}). The closing line ({close:.3f}) is {pick - close:.3f} better: it knows the "
        "news between pick time and tip-off (late injury and lineup calls), which none of the "
        "model's inputs holds (the feature store's statuses are the last injury report at or "
        "before pick time, its line the pick-time consensus).",
    ]
    if oracle is not None:
        out[-1] += (
            f" The oracle's median ({oracle:.3f}) is the least MAE any model could reach: "
            f"{close - oracle:.3f} below the close, all that is left to gain on it, and only by "
            "knowing more than the market at tip-off."
        )
    for system, b in bars.items():
        out += [
            "",
            f"- {system}: {b['system_mae']:.3f}, {b['system_mae'] - pick:+.3f} from the "
            f"pick-time line and {b['system_mae'] - close:+.3f} from the close. Its gap to the "
            f"line correlates {_fmt(b['system_gap_foresight'], '+.3f')} with the outcome's gap "
            f"to it (the close's move from it: {_fmt(b['close_move_foresight'], '+.3f')}).",
        ]
    out += [
        "",
        "What would move it: to reach the pick-time line, departures from the line that foresee "
        "the outcome (where they do not, staying nearer the line and predicting the median, "
        "which MAE rewards, rather than the mean); to reach the close, the late news itself "
        "(a pick nearer tip-off with injury reports up to then); to beat the close, information "
        "the market at tip-off does not have.",
    ]
    return out


def run(
    warehouse: Path,
    out_dir: Path,
    *,
    start: date | None = None,
    end: date | None = None,
    retrain_every: int | None = None,
    truth: pd.DataFrame | None = None,
    truth_note: str = "no truth given: no oracle figures",
    systems: list[str] | None = None,
    config: ModelsConfig | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the walk-forward and write backtest.json, backtest.md and the plots to out_dir."""
    config = config or ModelsConfig.from_env()
    systems = systems or list(SYSTEMS)
    retrain_every = retrain_every or config.retrain_every_days
    con = store.connect(warehouse, read_only=True)
    try:
        types = store.column_types(con)
        rows = store.read_training_rows(con, before=None)
        market = con.execute(MARKET_SQL).df()
    finally:
        con.close()
    if rows.empty:
        raise ModelsError(f"backtest: {warehouse} has no labelled feature rows")
    first, last = rows["game_date"].min(), rows["game_date"].max()
    start = start or first + timedelta(days=config.min_training_days)
    end = end or last
    preds, retrains = walk_forward(
        rows, types, start=start, end=end, retrain_every=retrain_every, config=config,
        seed=seed, systems=systems,
    )  # fmt: skip
    if truth is not None:
        truth = truth[["player_id", "game_date", "market", "expected_value", "oracle_median"]]
    frame = graded(preds, rows, market, truth, config)
    report = {
        "window": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "retrain_every_days": retrain_every,
            "first_training_day": str(first),
        },
        "seed": seed,
        "config": asdict(config),
        "notes": {
            "prices": "ROI at the mean decimal price of the books quoting the pick-time consensus "
            "line at the pick-time snapshot; where none did, the no-vig probability with a "
            f"{config.typical_overround:.1%} overround (share_priced_from_books says how often).",
            "oracle": truth_note,
            "mae": "MAE and RMSE of the predicted mean over predicted rows he played; "
            "closing_line_mae compares the closing consensus line on the rows that have one, "
            "pick_line_mae the pick-time consensus line (the one the systems pick against); "
            "bar puts them, the oracle's median and the system's mean and median on the same "
            "rows.",
            "clv": "closing no-vig probability of the picked side minus its pick-time no-vig "
            "probability, in probability points.",
        },
        "retrains": retrains,
        "results": evaluate(frame, truth is not None),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "backtest.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    (out_dir / "backtest.md").write_text(markdown(report))
    # the graded rows themselves, for anyone who wants to cut the figures another way
    frame.to_parquet(out_dir / "graded_predictions.parquet", index=False)
    _plots(frame, out_dir)
    return report
