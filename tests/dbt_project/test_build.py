"""A real dbt build of the whole project, on the test target, from an empty warehouse."""

from __future__ import annotations

import duckdb

from tests.dbt_project.conftest import DbtBuild, run_dbt


def test_every_node_builds_and_passes(dbt_build: DbtBuild) -> None:
    failed = {uid: s for uid, s in dbt_build.statuses.items() if s not in {"success", "pass"}}
    assert dbt_build.statuses, "dbt built nothing"
    assert failed == {}


def test_build_covers_every_model_seed_and_test(dbt_build: DbtBuild) -> None:
    expected = {
        uid
        for uid, node in dbt_build.manifest["nodes"].items()
        if node["resource_type"] in {"model", "seed", "test", "unit_test"}
        and node["package_name"] == "nba_props"
    }
    assert expected <= set(dbt_build.statuses)


def test_reference_tables_land_where_analysts_look(dbt_build: DbtBuild) -> None:
    with duckdb.connect(str(dbt_build.warehouse)) as con:
        teams = con.sql("select count(*), count(distinct espn_team_id) from analytics.dim_teams")
        assert teams.fetchone() == (30, 30)
        clippers = con.sql(
            "select odds_api_team_name, bdl_team_name from analytics.dim_teams"
            " where team_key = 'LAC'"
        ).fetchone()
        assert clippers == ("Los Angeles Clippers", "LA Clippers")


def test_a_second_build_changes_no_rows(dbt_build: DbtBuild) -> None:
    def snapshot() -> dict[str, tuple]:
        with duckdb.connect(str(dbt_build.warehouse)) as con:
            tables = con.sql(
                "select table_schema, table_name from information_schema.tables"
                " where table_type = 'BASE TABLE' order by all"
            ).fetchall()
            return {
                f"{schema}.{name}": con.sql(
                    f'select count(*), sum(hash(t)) from "{schema}"."{name}" as t'
                ).fetchone()
                for schema, name in tables
            }

    before = snapshot()
    run_dbt(["build"], warehouse=dbt_build.warehouse, target_path=dbt_build.target_path)
    assert snapshot() == before


def test_docs_site_builds_as_one_offline_page(dbt_build: DbtBuild) -> None:
    run_dbt(
        ["docs", "generate", "--static"],
        warehouse=dbt_build.warehouse,
        target_path=dbt_build.target_path,
    )
    page = (dbt_build.target_path / "static_index.html").read_text()
    # The catalog and manifest are inlined, so the page works with no server and no network.
    assert "dim_teams" in page
    assert "One row per NBA franchise" in page


def test_every_analysis_runs_as_written_and_answers(dbt_build: DbtBuild) -> None:
    """analyses/ holds questions an analyst asks: each compiles and returns rows on real weeks."""
    analyses = [
        node
        for node in dbt_build.manifest["nodes"].values()
        if node["resource_type"] == "analysis" and node["package_name"] == "nba_props"
    ]
    assert len(analyses) >= 3
    run_dbt(
        ["compile", "--select", "resource_type:analysis"],
        warehouse=dbt_build.warehouse,
        target_path=dbt_build.target_path,
    )
    compiled = dbt_build.target_path / "compiled" / "nba_props"
    # read-write like dbt's own connection in this process: DuckDB refuses two configurations
    with duckdb.connect(str(dbt_build.warehouse)) as con:
        for node in analyses:
            sql = (compiled / node["original_file_path"]).read_text()
            result = con.sql(sql)
            rows = result.fetchall()
            assert rows, f"{node['name']} returned no rows"
            assert all(column for column in result.columns), node["name"]
