"""Publishing: the day's static files, read from the prediction marts and nothing else.

Four JSON files (predictions, best picks with their reasons, the previous day's grades, system
performance), each validated against its JSON Schema in pipeline/schemas/ before it is written, and
report.html with its PNG plots beside it, which a person opens from the file system. Every file
carries the run id. Files are written to a temporary name and renamed, so a reader (or a rerun after
a kill) never sees half a file.

The same marts give byte-identical files apart from the run id and the generated-at time: rows are
read in a fixed order, floats rounded to six places, the plots drawn by Agg without a timestamp.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import jsonschema
import pandas as pd

from pipeline.errors import PipelineError

SCHEMAS_DIR = Path(__file__).with_name("schemas")
REPORT_DIR = Path(__file__).with_name("report")
REPORT_TEMPLATE = "report.html.j2"

# The system whose picks are "the best picks": the first of these that made picks that day.
HEADLINE_SYSTEMS = ("ensemble", "catboost", "baseline")
BEST_PICKS = 25
FLOAT_PLACES = 6
DATE_COLUMNS = frozenset({"game_date", "first_date", "last_date"})
COVERAGE_TARGET = 0.95  # drawn on the coverage plot (the daily job checks it; see settings.py)

PLOTS = {
    "hit_rate_roi": "hit_rate_roi.png",
    "calibration": "calibration.png",
    "clv": "clv.png",
    "coverage": "coverage.png",
}

# The marts' rows, each query in a fixed order so that the files are too.
PREDICTIONS_SQL = """
select
    grades.system, grades.model_version, grades.run_id as scoring_run_id, grades.game_id,
    grades.player_id, players.player_name, features.team_key, features.opponent_team_key,
    features.is_home, features.tipoff_at, grades.market, grades.line,
    grades.no_vig_over_probability, grades.predicted_value, grades.probability_over, grades.edge,
    grades.recommendation,
    grades.confidence, grades.skip_reason, grades.reason_1, grades.reason_2, grades.reason_3,
    grades.price_taken, grades.price_source
from predictions.fct_prediction_grades as grades
left outer join analytics.dim_players as players on grades.player_id = players.player_id
left outer join features.fct_player_prop_features as features
    on grades.game_id = features.game_id
    and grades.player_id = features.player_id
    and grades.market = features.market
where grades.game_date = ?
order by grades.system, grades.game_id, grades.player_id, grades.market
"""

GRADES_SQL = """
select
    grades.system, grades.game_id, grades.player_id, players.player_name, grades.market,
    grades.recommendation, grades.line, grades.confidence, grades.actual_value, grades.result,
    grades.price_taken, grades.price_source, grades.profit, grades.close_line, grades.clv
from predictions.fct_prediction_grades as grades
left outer join analytics.dim_players as players on grades.player_id = players.player_id
where grades.game_date = ? and grades.recommendation in ('OVER', 'UNDER')
order by grades.system, grades.game_id, grades.player_id, grades.market
"""

# per system and date over the markets; graded dates up to the publishing day
DAILY_SQL = """
select
    system, game_date,
    cast(sum(n_predictions) as bigint) as n_predictions, cast(sum(n_picks) as bigint) as n_picks,
    cast(sum(n_graded) as bigint) as n_graded, cast(sum(wins) as bigint) as wins,
    cast(sum(losses) as bigint) as losses, cast(sum(pushes) as bigint) as pushes,
    cast(sum(voids) as bigint) as voids,
    sum(coalesce(profit, 0)) as profit,
    sum(coalesce(mae, 0) * n_errors) as abs_error_sum, cast(sum(n_errors) as bigint) as n_errors,
    sum(coalesce(mean_clv, 0) * n_clv) as clv_sum, cast(sum(n_clv) as bigint) as n_clv
from predictions.fct_system_daily_performance
where game_date <= ?
group by system, game_date
order by system, game_date
"""

CALIBRATION_SQL = """
select system, bucket, probability_bucket_lower, probability_bucket_upper,
    cast(sum(n) as bigint) as n,
    sum(mean_probability_over * n) / sum(n) as mean_probability_over,
    sum(observed_over_rate * n) / sum(n) as observed_over_rate
from predictions.fct_prediction_calibration
group by system, bucket, probability_bucket_lower, probability_bucket_upper
order by system, bucket
"""

COVERAGE_SQL = """
select game_date, system, lines_offered, predictions_made, lines_not_scored, coverage,
    skipped_no_line, skipped_player_out, skipped_stale_features, skipped_incomplete_features
from predictions.fct_prediction_coverage
where game_date <= ?
order by game_date, system
"""


class PublishError(PipelineError):
    """The day's files could not be made from the marts."""


class PublishValidationError(PublishError):
    """A file failed its JSON Schema: nothing of it was written."""

    def __init__(self, file: str, record: str, field: str, reason: str) -> None:
        self.file, self.record, self.field, self.reason = file, record, field, reason
        super().__init__(f"{file}: {record}: field {field}: {reason}")


@dataclass(frozen=True)
class Marts:
    """What the day's files are made of, read in one go (the warehouse is closed after)."""

    predictions: pd.DataFrame
    grades: pd.DataFrame
    daily: pd.DataFrame
    calibration: pd.DataFrame
    coverage: pd.DataFrame


def publish(warehouse: Path, game_date: date, run_id: str, out_dir: Path) -> list[Path]:
    """Write the day's files into out_dir (the date's own folder, public/<DATE>/ by default) and
    return their paths: the four JSON files, report.html and its plots."""
    marts = read_marts(warehouse, game_date)
    generated_at = datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = {"run_id": run_id, "generated_at": generated_at, "game_date": game_date.isoformat()}
    documents = {
        "predictions.json": {**header, "predictions": _records(marts.predictions)},
        "picks.json": {**header, **best_picks(marts.predictions)},
        "grades.json": {**header, **previous_day_grades(marts.grades, game_date)},
        "performance.json": {**header, **performance(marts)},
    }
    # every document is checked before any is written: a bad one leaves the folder as it was
    for name, document in documents.items():
        validate(name, document)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        _write_atomic(out_dir / name, _dumps(document)) for name, document in documents.items()
    ]
    written += draw_plots(marts, out_dir)
    written.append(write_report(documents, out_dir))
    return written


# --- reading -------------------------------------------------------------------------------------


def read_marts(warehouse: Path, game_date: date) -> Marts:
    """Read in one go. A plain connection, not a read-only one: the daily job runs dbt in this
    process, and DuckDB refuses a second connection to a file with a different configuration."""
    if not warehouse.exists():
        raise PublishError(f"publish: warehouse {warehouse} does not exist")
    previous = game_date - timedelta(days=1)
    try:
        with duckdb.connect(str(warehouse)) as con:
            # one thread while reading: float sums meet their inputs in one order, so that reruns
            # round alike (the setting is the file's, shared with dbt's connection: put it back)
            threads = con.sql("select current_setting('threads')").fetchone()[0]
            con.execute("set threads = 1")
            try:
                return Marts(
                    predictions=con.execute(PREDICTIONS_SQL, [game_date]).df(),
                    grades=con.execute(GRADES_SQL, [previous]).df(),
                    daily=con.execute(DAILY_SQL, [game_date]).df(),
                    calibration=con.execute(CALIBRATION_SQL).df(),
                    coverage=con.execute(COVERAGE_SQL, [game_date]).df(),
                )
            finally:
                con.execute(f"set threads = {int(threads)}")
    except duckdb.CatalogException as exc:
        raise PublishError(
            f"publish: {warehouse}: a prediction mart is missing (run the dbt build of the"
            f" prediction marts first): {exc}"
        ) from exc


# --- the documents -------------------------------------------------------------------------------


def best_picks(predictions: pd.DataFrame) -> dict[str, Any]:
    """The headline system's picks, most confident first, each with its reasons in plain words."""
    picks = predictions.loc[predictions["recommendation"].isin(["OVER", "UNDER"])]
    present = [s for s in HEADLINE_SYSTEMS if s in set(picks["system"])]
    system = present[0] if present else (min(picks["system"]) if len(picks) else None)
    chosen = picks.loc[picks["system"] == system].copy()
    chosen["abs_edge"] = chosen["edge"].abs()
    chosen = chosen.sort_values(
        ["confidence", "abs_edge", "player_id", "market"],
        ascending=[False, False, True, True],
        kind="mergesort",
    ).head(BEST_PICKS)
    over = chosen["recommendation"] == "OVER"
    chosen["probability"] = chosen["probability_over"].where(over, 1 - chosen["probability_over"])
    chosen["rank"] = range(1, len(chosen) + 1)
    # the reasons a system gave, strongest first, without the empty slots
    given = chosen[["reason_1", "reason_2", "reason_3"]].stack()
    given = given.loc[given.astype(str).str.len() > 0]
    listed = given.groupby(level=0, sort=False).agg(list)
    chosen["reasons"] = listed.reindex(chosen.index).apply(
        lambda reasons: reasons if isinstance(reasons, list) else []
    )
    columns = [
        "rank", "system", "model_version", "game_id", "player_id", "player_name", "team_key",
        "opponent_team_key", "tipoff_at", "market", "recommendation", "line", "price_taken",
        "price_source", "predicted_value", "probability", "edge", "confidence", "reasons",
    ]  # fmt: skip
    return {"system": system, "picks": _records(chosen[columns])}


def previous_day_grades(grades: pd.DataFrame, game_date: date) -> dict[str, Any]:
    """Yesterday's picks of every system with their results, and each system's day in one line."""
    settled = grades.assign(
        win=grades["result"] == "win",
        loss=grades["result"] == "loss",
        push=grades["result"] == "push",
        void=grades["result"] == "void",
        pending=grades["result"] == "pending",
    )
    summary = (
        settled.groupby("system", sort=True)
        .agg(
            picks=("result", "size"),
            wins=("win", "sum"),
            losses=("loss", "sum"),
            pushes=("push", "sum"),
            voids=("void", "sum"),
            pending=("pending", "sum"),
            profit=("profit", "sum"),
            mean_clv=("clv", "mean"),
        )
        .reset_index()
    )
    staked = summary["wins"] + summary["losses"] + summary["pushes"]
    summary["hit_rate"] = _ratio(summary["wins"], summary["wins"] + summary["losses"])
    summary["roi"] = _ratio(summary["profit"], staked)
    return {
        "graded_date": (game_date - timedelta(days=1)).isoformat(),
        "systems": _records(summary),
        "grades": _records(grades),
    }


def performance(marts: Marts) -> dict[str, Any]:
    """Per system: totals to date, the daily series with running totals, calibration, coverage."""
    daily = with_running_totals(marts.daily)
    totals = (
        daily.groupby("system", sort=True)
        .agg(
            first_date=("game_date", "min"),
            last_date=("game_date", "max"),
            n_predictions=("n_predictions", "sum"),
            n_picks=("n_picks", "sum"),
            n_graded=("n_graded", "sum"),
            wins=("wins", "sum"),
            losses=("losses", "sum"),
            pushes=("pushes", "sum"),
            voids=("voids", "sum"),
            profit=("profit", "sum"),
            abs_error_sum=("abs_error_sum", "sum"),
            n_errors=("n_errors", "sum"),
            clv_sum=("clv_sum", "sum"),
            n_clv=("n_clv", "sum"),
        )
        .reset_index()
    )
    totals = _rates(totals)
    series = daily[
        ["system", "game_date", "n_predictions", "n_picks", "n_graded", "wins", "losses",
         "pushes", "voids", "profit", "hit_rate", "roi", "mae", "mean_clv",
         "cumulative_profit", "cumulative_hit_rate", "cumulative_roi", "cumulative_mean_clv"]
    ]  # fmt: skip
    return {
        "systems": _records(totals.drop(columns=["abs_error_sum", "clv_sum"])),
        "daily": _records(series),
        "calibration": _records(marts.calibration),
        "coverage": _records(marts.coverage),
    }


def with_running_totals(daily: pd.DataFrame) -> pd.DataFrame:
    """Each day's rates, and the running rates since the first day, per system."""
    daily = _rates(daily.sort_values(["system", "game_date"], kind="mergesort"))
    running = daily.groupby("system", sort=False)[
        ["wins", "losses", "n_graded", "profit", "clv_sum", "n_clv"]
    ].cumsum()
    daily["cumulative_profit"] = running["profit"]
    daily["cumulative_hit_rate"] = _ratio(running["wins"], running["wins"] + running["losses"])
    daily["cumulative_roi"] = _ratio(running["profit"], running["n_graded"])
    daily["cumulative_mean_clv"] = _ratio(running["clv_sum"], running["n_clv"])
    return daily


def _rates(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["hit_rate"] = _ratio(frame["wins"], frame["wins"] + frame["losses"])
    frame["roi"] = _ratio(frame["profit"], frame["n_graded"])
    frame["mae"] = _ratio(frame["abs_error_sum"], frame["n_errors"])
    frame["mean_clv"] = _ratio(frame["clv_sum"], frame["n_clv"])
    return frame


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """NULL (None in JSON) where there is nothing to divide by, never a NaN or an infinity."""
    denominator = denominator.astype(float)
    return numerator.astype(float).div(denominator.where(denominator != 0))


# --- validation ----------------------------------------------------------------------------------


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a published file, pipeline/schemas/<stem>.schema.json, with its local
    references written out in place: validating thousands of records through `$ref` lookups
    costs seconds, the same schema inlined a fraction of that."""
    path = SCHEMAS_DIR / f"{Path(name).stem}.schema.json"
    document = json.loads(path.read_text())
    definitions = document.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return inline(definitions[reference.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(document)


def validate(name: str, document: Mapping[str, Any]) -> None:
    """Raise PublishValidationError naming the file, the record and the field of the first error
    (in document order, so that the same document always reports the same one)."""
    if _quick_check(name)(document):
        return  # valid for jsonschema too (see `_compile`); only a failure needs its report
    validator = jsonschema.Draft202012Validator(schema(name))
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    if not errors:
        return
    error = errors[0]
    path = list(error.absolute_path)
    record = _record_label(document, path)
    field = ".".join(str(p) for p in path[2:] if not isinstance(p, int)) or (
        ".".join(str(p) for p in path) or "(document)"
    )
    if error.validator == "required":
        field = error.message.split("'")[1] if "'" in error.message else field
    raise PublishValidationError(name, record, field, error.message)


# --- a quick check of the same schemas ----------------------------------------------------------
#
# jsonschema walks thousands of records at about 0.2 ms each (half a second for a day's
# predictions). The schemas use a handful of keywords; `_compile` turns a schema into one function
# that says True only when jsonschema's Draft 2020-12 would find no error: a keyword it does not
# know, a type it is unsure of (an enum value matched across int and float), anything else, says
# False, and `validate` then asks jsonschema, which finds and reports the error (or, seldom,
# none). The quick check can be stricter than jsonschema, never laxer.

QuickCheck = Callable[[Any], bool]
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description", "$comment"})
_TYPES: dict[str, QuickCheck] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@cache
def _quick_check(name: str) -> QuickCheck:
    return _compile(schema(name))


def _compile(node: Any) -> QuickCheck:
    if node is True:
        return lambda _: True
    if not isinstance(node, dict):
        return lambda _: False  # `false`, or not a schema: let jsonschema say
    checks: list[QuickCheck] = []
    for keyword, value in node.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "type":
            kinds = [value] if isinstance(value, str) else value
            if not isinstance(kinds, list) or any(k not in _TYPES for k in kinds):
                return lambda _: False
            tests = [_TYPES[k] for k in kinds]
            checks.append(lambda v, tests=tests: any(t(v) for t in tests))
        elif keyword == "enum" and isinstance(value, list):
            # the same type and equal: what jsonschema's equality certainly agrees with
            allowed = [(type(e), e) for e in value]
            checks.append(
                lambda v, allowed=allowed: any(type(v) is t and v == e for t, e in allowed)
            )
        elif keyword == "required" and isinstance(value, list):
            checks.append(
                lambda v, keys=value: not isinstance(v, dict) or all(k in v for k in keys)
            )
        elif keyword == "properties" and isinstance(value, dict):
            props = {k: _compile(sub) for k, sub in value.items()}
            checks.append(
                lambda v, props=props: (
                    not isinstance(v, dict) or all(props[k](x) for k, x in v.items() if k in props)
                )
            )
        elif keyword == "additionalProperties":
            known = frozenset(node.get("properties", {}))
            extra = _compile(value)
            checks.append(
                lambda v, known=known, extra=extra: (
                    not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in known)
                )
            )
        elif keyword == "items" and isinstance(value, dict | bool):
            item = _compile(value)
            checks.append(lambda v, item=item: not isinstance(v, list) or all(map(item, v)))
        elif keyword == "maxItems" and _is_number(value):
            checks.append(lambda v, n=value: not isinstance(v, list) or len(v) <= n)
        elif keyword == "minLength" and _is_number(value):
            checks.append(lambda v, n=value: not isinstance(v, str) or len(v) >= n)
        elif keyword == "pattern" and isinstance(value, str):
            search = re.compile(value).search
            checks.append(lambda v, search=search: not isinstance(v, str) or bool(search(v)))
        elif keyword in ("minimum", "maximum", "exclusiveMinimum") and _is_number(value):
            within = {
                "minimum": lambda v, n=value: v >= n,
                "maximum": lambda v, n=value: v <= n,
                "exclusiveMinimum": lambda v, n=value: v > n,
            }[keyword]
            checks.append(lambda v, within=within: not _is_number(v) or within(v))
        else:
            return lambda _: False  # a keyword (or a form of one) not known here
    return lambda v: all(check(v) for check in checks)


def _record_label(document: Mapping[str, Any], path: Sequence[Any]) -> str:
    """'picks[3] (system=catboost, game_id=..., player_id=..., market=points)', or 'the header'."""
    if len(path) < 2 or not isinstance(path[1], int):
        return "the header"
    key, index = path[0], path[1]
    record = document[key][index]
    keys = [k for k in ("system", "game_date", "game_id", "player_id", "market") if k in record]
    label = ", ".join(f"{k}={record[k]}" for k in keys)
    return f"{key}[{index}] ({label})" if label else f"{key}[{index}]"


# --- writing -------------------------------------------------------------------------------------


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN and NaT become null, floats rounded, times in UTC ISO form,
    dates (which pandas reads as midnight timestamps) as dates."""
    return [
        {k: _json_value(v, is_date=k in DATE_COLUMNS) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _json_value(value: Any, *, is_date: bool = False) -> Any:
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if is_date:
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        rounded = round(value, FLOAT_PLACES)
        return 0.0 if rounded == 0 else rounded  # no "-0.0"
    return value


def _dumps(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _write_atomic(path: Path, content: bytes) -> Path:
    """A temporary file in the same folder, flushed, then renamed over the target."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# --- the report ----------------------------------------------------------------------------------


def draw_plots(marts: Marts, out_dir: Path) -> list[Path]:
    """The four PNGs, drawn by Agg (no display, no timestamp in the file)."""
    from pipeline.report import plots  # matplotlib loads only when publishing

    daily = with_running_totals(marts.daily)
    drawn = {
        "hit_rate_roi": plots.hit_rate_and_roi(daily),
        "calibration": plots.calibration(marts.calibration),
        "clv": plots.closing_line_value(daily),
        "coverage": plots.coverage(marts.coverage, COVERAGE_TARGET),
    }
    return [_write_atomic(out_dir / PLOTS[key], png) for key, png in drawn.items()]


def write_report(documents: Mapping[str, Mapping[str, Any]], out_dir: Path) -> Path:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(REPORT_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["number"] = _number
    environment.filters["percent"] = _percent
    html = environment.get_template(REPORT_TEMPLATE).render(
        header={k: documents["picks.json"][k] for k in ("run_id", "generated_at", "game_date")},
        picks=documents["picks.json"],
        grades=documents["grades.json"],
        performance=documents["performance.json"],
        plots=PLOTS,
    )
    return _write_atomic(out_dir / "report.html", html.encode())


def _number(value: Any, places: int = 1) -> str:
    return "–" if value is None else f"{value:.{places}f}"


def _percent(value: Any, places: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.{places}f}%"
