"""`python -m models_ml`: train, predict, backtest and bench on the warehouse's feature store.

This is the only module of models_ml/ that may import the sandbox: the backtest's oracle reads the
simulator's truth (`--truth sandbox`), which no model ever sees.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from models_ml import api, backtest, bench, registry, store
from models_ml.config import SYSTEMS, ModelsConfig, default_backtest_dir, default_registry
from models_ml.errors import ModelsError

app = typer.Typer(add_completion=False, help="Train, score, backtest and bench the prop systems.")
console = Console(stderr=True)
DEFAULT_WAREHOUSE = Path("warehouse/nba_props.duckdb")
ALL_SYSTEMS = ",".join(SYSTEMS)

Warehouse = Annotated[
    Path, typer.Option(envvar="NBA_PROPS_DUCKDB_PATH", help="The DuckDB warehouse file.")
]
Registry = Annotated[
    Path | None, typer.Option(help="Model registry (default: <warehouse dir>/models).")
]
Systems = Annotated[str, typer.Option(help="Comma-separated systems.")]


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _systems(value: str) -> list[str]:
    return [s.strip() for s in value.split(",") if s.strip()]


def _fail(error: ModelsError) -> None:
    console.print(f"[red]error:[/red] {error}")
    raise typer.Exit(1)


@app.command()
def train(
    through: Annotated[str, typer.Option(help="Train on games before this date (YYYY-MM-DD).")],
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    registry_dir: Registry = None,
    systems: Systems = ALL_SYSTEMS,
    seed: int = 0,
) -> None:
    """Fit the systems on games before --through and save them in the registry."""
    try:
        trained = api.train(warehouse, _day(through), _systems(systems), registry_dir, seed)
    except ModelsError as error:
        _fail(error)
    table = Table("system", "version", "rows", "holdout MAE by market", "path")
    for model in trained:
        mae = model.metadata["metrics"]["holdout_mae"]
        table.add_row(
            model.system,
            model.version,
            str(model.metadata["training_window"]["rows"]),
            ", ".join(f"{k} {v:.2f}" for k, v in mae.items()),
            str(model.path),
        )
    Console().print(table)


@app.command()
def predict(
    date_: Annotated[str, typer.Option("--date", help="The slate to score (YYYY-MM-DD).")],
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    run_id: Annotated[str | None, typer.Option(help="Run id (default manual-<uuid>).")] = None,
    registry_dir: Registry = None,
    systems: Systems = ALL_SYSTEMS,
) -> None:
    """Score a date and replace its rows in raw_models_ml.predictions."""
    run = run_id or f"manual-{uuid.uuid4()}"
    try:
        summary = api.predict(warehouse, _day(date_), run, _systems(systems), registry_dir)
    except ModelsError as error:
        _fail(error)
    console.print(f"run={run} date={date_} rows written={summary.rows_written}")
    Console().print_json(json.dumps(summary.__dict__, default=str))


@app.command(name="backtest")
def backtest_cmd(
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    start: Annotated[str | None, typer.Option(help="First scored day.")] = None,
    end: Annotated[str | None, typer.Option(help="Last scored day.")] = None,
    retrain_every: Annotated[int | None, typer.Option(help="Days between retrains.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (<warehouse dir>/backtest).")
    ] = None,
    truth: Annotated[
        str, typer.Option(help="'sandbox' (the simulator's truth), 'none', or a parquet file.")
    ] = "sandbox",
    systems: Systems = ALL_SYSTEMS,
    seed: int = 0,
) -> None:
    """Walk-forward over the warehouse's season; figures, plots and a summary in --out."""
    truth_frame, note = _truth(truth)
    out_dir = out or default_backtest_dir(warehouse)
    started = datetime.now()
    try:
        report = backtest.run(
            warehouse,
            out_dir,
            start=_day(start) if start else None,
            end=_day(end) if end else None,
            retrain_every=retrain_every,
            truth=truth_frame,
            truth_note=note,
            systems=_systems(systems),
            seed=seed,
        )
    except ModelsError as error:
        _fail(error)
    seconds = (datetime.now() - started).total_seconds()
    console.print(
        f"backtest written to {out_dir} in {seconds:.0f} s ({len(report['retrains'])} fits)"
    )
    print((out_dir / "backtest.md").read_text())


def _truth(spec: str) -> tuple[pd.DataFrame | None, str]:
    """The oracle's truth: the sandbox league's expectations, a parquet file, or nothing."""
    if spec == "none":
        return None, "no truth given: no oracle figures"
    if spec == "sandbox":
        from sandbox.truth import player_game_truth

        frame = player_game_truth()
        note = "the sandbox's truth (sandbox.truth.player_game_truth, default seed and season)"
    else:
        frame = pd.read_parquet(spec)
        note = f"truth from {spec}"
    frame = frame.assign(
        market=frame["market"].astype(str), game_date=pd.to_datetime(frame["game_date"]).dt.date
    )
    return frame, note


@app.command(name="bench")
def bench_cmd(
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
    registry_dir: Registry = None,
    rows: int = 200_000,
    systems: Systems = ALL_SYSTEMS,
) -> None:
    """Scoring throughput per system (predictions a second), with and without reasons."""
    config = ModelsConfig.from_env()
    con = store.connect(warehouse, read_only=True)
    try:
        features = store.read_features(con)
    finally:
        con.close()
    day = bench.scoring_date(features)
    reg = registry_dir or default_registry(warehouse)
    try:
        models = {s: registry.latest(reg, s, day) for s in _systems(systems)}
    except ModelsError as error:
        _fail(error)
    table = Table("system", "reasons", "rows", "seconds", "predictions/s", "per CPU second")
    for with_reasons in (False, True):
        n = rows if not with_reasons else max(rows // 10, 1)
        result = bench.measure(features, models, config=config, rows=n, with_reasons=with_reasons)
        for name, r in result.items():
            table.add_row(
                name, str(with_reasons), str(r["rows"]), f"{r['seconds']:.2f}",
                f"{r['per_second']:,.0f}", f"{r['per_cpu_second']:,.0f}",
            )  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    app()
