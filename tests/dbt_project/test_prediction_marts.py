"""The prediction marts on real warehouse rows: crafted predictions written to the real
raw_models_ml.predictions table (models_ml's own DDL) of a copy of the built warehouse, then the
marts built by real dbt. Grading of pushes and voids, the price taken, closing-line value, the
contract refusing a confidence of 101, and coverage with its skip reasons.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from models_ml.scoring import ensure_table
from tests.dbt_project.conftest import DbtBuild, run_dbt

pytestmark = pytest.mark.slow

GRADED = "ensemble"  # the system of the hand-made picks
COVERED = "catboost"  # the system of the coverage day
STANDARD_DECIMAL_ODDS = 21 / 11  # -110, the price when no book quoted the pick's line

# A prediction row from a feature row: `chosen` supplies (game_id, player_id, market, system, line,
# recommendation, skip_reason); the rest comes from the feature store as models_ml would take it.
INSERT = """
insert into raw_models_ml.predictions
select
    'run-test', chosen.system, chosen.system || '-test', features.game_date, chosen.game_id,
    chosen.player_id, chosen.market, chosen.line,
    case when chosen.line is not null then 'consensus' end,
    features.pick_no_vig_over_probability,
    case when chosen.skip_reason is null then features.stat_avg_10 end,
    case when chosen.skip_reason is null then features.stat_avg_10 end,
    case when chosen.skip_reason is null and chosen.line is not null then 0.5 end,
    case when chosen.recommendation <> 'PASS' then 0.05 end,
    chosen.recommendation,
    case when chosen.skip_reason is null then 55 else 0 end,
    chosen.skip_reason,
    case when chosen.skip_reason is null then 'averaging 20.0 over his last 5 (+1.0)' end,
    null, null,
    features.features_as_of, features.inputs_loaded_at, features.features_as_of + interval 5 minute
from ({chosen}) as chosen
inner join features.fct_player_prop_features as features
    on chosen.game_id = features.game_id
    and chosen.player_id = features.player_id
    and chosen.market = features.market
"""

# Four played rows and one did-not-play row, each with a pick-time line and both sides quoted at
# the consensus line, so that the pick at that line has a price from the books.
PLAYED = """
select features.game_id, features.player_id, features.market, features.pick_line,
    outcomes.actual_value
from features.fct_player_prop_features as features
inner join features.fct_player_prop_outcomes as outcomes using (game_id, player_id, market)
inner join analytics.fct_prop_line_consensus as consensus using (game_id, player_id, market)
where outcomes.did_play = {did_play} and features.pick_line is not null
    and coalesce(outcomes.actual_value, 1) >= 1
    and consensus.pick_n_books_at_line > 0 and consensus.close_line is not null
order by features.game_id, features.player_id, features.market
limit {n}
"""


@dataclass(frozen=True)
class Marts:
    warehouse: Path
    dbt: Callable[..., Any]
    coverage_date: Any
    coverage_offered: pd.DataFrame
    cases: dict[str, tuple]


def query(path: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(path)) as con:
        return con.execute(sql, params or []).df()


def _graded_cases(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """Hand-made picks on real rows: the line set to make each result happen."""
    played = con.sql(PLAYED.format(did_play="true", n=4)).fetchall()
    sat = con.sql(PLAYED.format(did_play="false", n=1)).fetchall()
    assert len(played) == 4, "the built weeks lack rows of players who played"
    assert len(sat) == 1, "the built weeks lack a did-not-play row with a line"
    (g1, p1, m1, _, actual1), (g2, p2, m2, _, actual2), (g3, p3, m3, _, actual3) = played[:3]
    g4, p4, m4, line4, _ = played[3]
    g5, p5, m5, line5, _ = sat[0]
    return {
        "push": (g1, p1, m1, actual1, "OVER"),
        "win": (g2, p2, m2, actual2 - 0.5, "OVER"),
        "loss": (g3, p3, m3, actual3 - 0.5, "UNDER"),
        "at_line": (g4, p4, m4, line4, "UNDER"),
        "void": (g5, p5, m5, line5, "OVER"),
    }


def _coverage_rows(con: duckdb.DuckDBPyConnection, game_date: Any) -> pd.DataFrame:
    """Every feature row of the day, each with its fate for COVERED: the first offered line (a
    line, the player not ruled out) is never written, the next four are skipped for each reason in
    turn, the rest predicted; a row without a line, or with one for a player out, is skipped so."""
    return con.execute(
        """
        select game_id, player_id, market, pick_line,
            pick_line is not null and lower(player_status) != 'out' as is_offered,
            row_number() over (
                partition by pick_line is not null and lower(player_status) != 'out'
                order by game_id, player_id, market
            ) as rank_in_kind
        from features.fct_player_prop_features
        where game_date = ?
        """,
        [game_date],
    ).df()


@pytest.fixture(scope="module")
def marts(dbt_build: DbtBuild, tmp_path_factory: pytest.TempPathFactory) -> Marts:
    workdir = tmp_path_factory.mktemp("prediction_marts")
    # dbt in this process may still hold the file with recent writes in its write-ahead log:
    # checkpoint (this connection shares dbt's database), then copy under the same file name
    # (DuckDB names the catalog after it, and dbt's views refer to it)
    with duckdb.connect(str(dbt_build.warehouse)) as con:
        con.execute("checkpoint")
    warehouse = workdir / dbt_build.warehouse.name
    shutil.copyfile(dbt_build.warehouse, warehouse)
    target = workdir / "target"

    def dbt(*args: str, check: bool = True) -> Any:
        return run_dbt(list(args), warehouse=warehouse, target_path=target, check=check)

    with duckdb.connect(str(warehouse)) as con:
        ensure_table(con)
        cases = _graded_cases(con)
        picks = " union all ".join(
            f"select '{g}' as game_id, {p} as player_id, '{m}' as market, '{GRADED}' as system,"
            f" cast({line} as double) as line, '{rec}' as recommendation,"
            " cast(null as varchar) as skip_reason"
            for g, p, m, line, rec in cases.values()
        )
        con.execute(INSERT.format(chosen=picks))

        coverage_date = con.sql(
            "select max(game_date) from features.fct_player_prop_features"
            " where pick_line is not null"
        ).fetchone()[0]
        offered = _coverage_rows(con, coverage_date)
        con.register("day_rows", offered)
        con.execute(
            INSERT.format(
                chosen=f"""
                select game_id, player_id, market, '{COVERED}' as system, pick_line as line,
                    'PASS' as recommendation,
                    case
                        when pick_line is null then 'no_line'
                        when not is_offered then 'player_out'
                        when rank_in_kind in (2, 3) then 'player_out'
                        when rank_in_kind = 4 then 'stale_features'
                        when rank_in_kind = 5 then 'incomplete_features'
                    end as skip_reason
                from day_rows
                where not is_offered or rank_in_kind > 1
                """
            )
        )
    dbt("build", "-s", "stg_models_ml__predictions+")
    return Marts(warehouse, dbt, coverage_date, offered, cases)


def _grade(marts: Marts, case: str) -> pd.Series:
    game_id, player_id, market, _, _ = marts.cases[case]
    found = query(
        marts.warehouse,
        "select * from predictions.fct_prediction_grades"
        " where system = ? and game_id = ? and player_id = ? and market = ?",
        [GRADED, game_id, player_id, market],
    )
    assert len(found) == 1, f"{case}: {len(found)} grade rows"
    return found.iloc[0]


def test_a_stat_on_the_line_is_a_push_and_returns_the_stake(marts: Marts) -> None:
    push = _grade(marts, "push")
    assert push["actual_value"] == push["line"]
    assert (push["result"], push["profit"]) == ("push", 0.0)


def test_a_player_who_did_not_play_voids_the_pick(marts: Marts) -> None:
    void = _grade(marts, "void")
    assert not void["did_play"]
    assert pd.isna(void["actual_value"])
    assert (void["result"], void["profit"]) == ("void", 0.0)
    assert pd.isna(void["abs_error"])


def test_a_win_pays_the_price_taken_and_a_loss_the_stake(marts: Marts) -> None:
    win, loss = _grade(marts, "win"), _grade(marts, "loss")
    assert win["result"] == "win"
    assert win["profit"] == pytest.approx(win["price_taken"] - 1)
    assert win["profit"] > 0
    assert (loss["result"], loss["profit"]) == ("loss", -1.0)


def test_the_price_is_the_best_book_at_the_line_at_pick_time(marts: Marts) -> None:
    """Recomputed from fct_prop_lines in pandas: each book's last pre-game snapshot at or before
    pick time, those quoting the pick's line, the best under price among them."""
    pick = _grade(marts, "at_line")
    game_id, player_id, market, line, _ = marts.cases["at_line"]
    books = query(
        marts.warehouse,
        """
        select lines.bookmaker_key, lines.snapshot_at, lines.line, lines.under_decimal_odds
        from analytics.fct_prop_lines as lines
        inner join features.fct_player_prop_features as features using (game_id, player_id, market)
        where lines.game_id = ? and lines.player_id = ? and lines.market = ?
            and lines.is_pre_game and lines.snapshot_at <= features.features_as_of
        """,
        [game_id, player_id, market],
    )
    last = books.sort_values("snapshot_at").groupby("bookmaker_key").tail(1)
    at_line = last.loc[(last["line"] == line) & last["under_decimal_odds"].notna()]
    assert len(at_line) > 0
    assert pick["price_source"] == "best_book_at_line"
    assert pick["n_books_at_line"] == len(at_line)
    assert pick["price_taken"] == at_line["under_decimal_odds"].max()


def test_closing_line_value_is_the_sides_probability_move(marts: Marts) -> None:
    pick = _grade(marts, "at_line")
    game_id, player_id, market, line, _ = marts.cases["at_line"]
    close_line, close_over = query(
        marts.warehouse,
        "select close_line, close_no_vig_over_probability from analytics.fct_prop_line_consensus"
        " where game_id = ? and player_id = ? and market = ?",
        [game_id, player_id, market],
    ).iloc[0]
    # an under: the under's probability is one minus the over's, at pick time and at the close
    assert pick["pick_no_vig_probability"] == pytest.approx(1 - pick["no_vig_over_probability"])
    assert pick["close_no_vig_probability"] == pytest.approx(1 - close_over)
    assert pick["clv"] == pytest.approx((1 - close_over) - pick["pick_no_vig_probability"])
    assert pick["close_line_gain"] == pytest.approx(line - close_line)


def test_daily_performance_adds_up_the_grades(marts: Marts) -> None:
    totals = query(
        marts.warehouse,
        "select sum(wins), sum(losses), sum(pushes), sum(voids), sum(n_picks)"
        " from predictions.fct_system_daily_performance where system = ?",
        [GRADED],
    ).iloc[0]
    results = [_grade(marts, case)["result"] for case in marts.cases]
    assert list(totals) == [
        results.count("win"),
        results.count("loss"),
        results.count("push"),
        results.count("void"),
        len(results),
    ]


def test_coverage_counts_offered_lines_and_skip_reasons(marts: Marts) -> None:
    offered = marts.coverage_offered
    n_offered = int(offered["is_offered"].sum())
    n_without_line = int(offered["pick_line"].isna().sum())
    # a line for a player ruled out at pick time is void, not a line to cover
    n_out_with_line = int((offered["pick_line"].notna() & ~offered["is_offered"]).sum())
    assert n_offered > 5
    row = query(
        marts.warehouse,
        "select * from predictions.fct_prediction_coverage where game_date = ? and system = ?",
        [marts.coverage_date, COVERED],
    ).iloc[0]
    assert row["lines_offered"] == n_offered
    assert row["lines_not_scored"] == 1
    assert row["predictions_made"] == n_offered - 5
    assert row["coverage"] == pytest.approx((n_offered - 5) / n_offered)
    assert (
        row["skipped_no_line"],
        row["skipped_player_out"],
        row["skipped_stale_features"],
        row["skipped_incomplete_features"],
    ) == (n_without_line, 2 + n_out_with_line, 1, 1)


def test_the_contract_refuses_a_confidence_of_101(marts: Marts) -> None:
    before = query(marts.warehouse, "select count(*) as n from staging.stg_models_ml__predictions")
    with duckdb.connect(str(marts.warehouse)) as con:
        con.execute(
            "insert into raw_models_ml.predictions select * replace ("
            " 'baseline' as system, 101.0 as confidence)"
            " from raw_models_ml.predictions where system = ? limit 1",
            [GRADED],
        )
    try:
        result = marts.dbt("run", "-s", "stg_models_ml__predictions", check=False)
        assert not result.success
        messages = " ".join(str(r.message) for r in result.result.results)
        assert "confidence" in messages
        assert "constraint" in messages.lower()
        # the failed build left the previous table as it was
        after = query(
            marts.warehouse, "select count(*) as n from staging.stg_models_ml__predictions"
        )
        assert after["n"].item() == before["n"].item()
    finally:
        with duckdb.connect(str(marts.warehouse)) as con:
            con.execute("delete from raw_models_ml.predictions where system = 'baseline'")
