"""The whole dbt project compiled for BigQuery with no network, and the compiled SQL checked.

dbt-bigquery compiles offline given a well-formed service-account key (a throwaway RSA key made
in a temporary folder, never in the repository), `--no-populate-cache --no-introspect`, and the
project's is_incremental() override (macros/is_incremental.sql), which takes the branch from the
var `compile_offline_incremental`. The project is compiled twice, so that every incremental model
is seen in its full-refresh and its incremental branch. Each compiled model, data test, source
freshness query and cross-database macro then goes through three checks:

- sqlfluff's BigQuery parser over the compiled text (`--templater raw`). Parse errors always
  count; of the rules, only the two that catch silent dialect changes (SQLFLUFF_RULES). Style is
  `make lint`'s business on the source SQL, and on generated SQL it would only be noise.
- sqlglot's BigQuery parser: lenient (it takes `::`, `try_cast`, `* exclude`), a second opinion.
- a scan for DuckDB-only syntax that both parsers may accept (DUCKDB_ONLY), with a hint each.

`dbt compile` leaves unit tests out (they run on DuckDB in test_build.py); analyses are left out
here too: they are the analyst's DuckDB SQL. Only the compile needs the bigquery extra
(`make test` installs it), so the tests that use it are marked `slow`, and the scan's own tests
run in `make test-fast`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from dbt.cli.main import dbtRunner

REPO = Path(__file__).resolve().parents[2]
SQLFLUFF = Path(sys.executable).with_name("sqlfluff")

# Both branches of every incremental model: the var's value per branch.
BRANCHES = {"full-refresh": False, "incremental": True}

# Beyond parse errors (PRS, LXR: always on), the rules whose findings mean "BigQuery reads this
# differently", not "this is untidy":
#   CV10 a double-quoted "name": a DuckDB identifier, but a string constant on BigQuery.
#   CV11 `x::type`: DuckDB's cast shorthand (also in the scan; sqlfluff sees it in context).
SQLFLUFF_RULES = ("CV10", "CV11")
SQLFLUFF_CONFIG = f"""\
[sqlfluff]
dialect = bigquery
templater = raw
rules = {",".join(SQLFLUFF_RULES)}
# the compiled feature store is long: never skip a file for its size
large_file_skip_byte_limit = 0

[sqlfluff:rules:convention.quoted_literals]
preferred_quoted_literal_style = single_quotes

[sqlfluff:rules:convention.casting_style]
preferred_type_casting_style = cast
"""


# --- the DuckDB-only scan ------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A DuckDB-only construct: the pattern (over SQL with comments and string contents blanked
    out, quotes kept) and what to write instead. `unless` exempts a line that also matches it."""

    pattern: str
    hint: str
    unless: str | None = None

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)


# One entry per construct; the hint is the comment. Nothing here is valid BigQuery that means
# the same as on DuckDB; a construct that both warehouses accept is not listed.
DUCKDB_ONLY: tuple[Token, ...] = (
    # --- casts and types
    Token(r"::", "`::` is DuckDB's cast shorthand: cast(x as type) or dbt.safe_cast"),
    Token(r"\btry_cast\s*\(", "try_cast is DuckDB's: dbt.safe_cast (safe_cast on BigQuery)"),
    Token(r"\bvarchar\b", "varchar is no BigQuery type: dbt.type_string() (string on both)"),
    Token(
        r"\bas\s+(text|double|real|float|float4|float8|hugeint|uhugeint|ubigint|uinteger"
        r"|usmallint|utinyint|int1|int2|int4|int8|blob|timestamptz|uuid)\s*[()]",
        "a DuckDB type name in a cast: dbt.type_string()/type_float()/type_int()/type_timestamp()",
    ),
    Token(r"\btimestamp\s+with\s+time\s+zone\b", "BigQuery's timestamp is already an instant"),
    Token(r"\w\s*\[\s*\]", "`type[]` is a DuckDB list type: array<type>"),
    # --- select-list extensions
    Token(
        r"\*\s*(exclude|rename)\b", "`* exclude/rename` is DuckDB's: BigQuery's `* except (...)`"
    ),
    Token(r"\bcolumns\s*\(", "COLUMNS(...) is DuckDB's star expression: list the columns"),
    Token(r"\bdistinct\s+on\b", "DISTINCT ON is DuckDB's: qualify row_number() over (...) = 1"),
    Token(r"\border\s+by\s+all\b", "ORDER BY ALL is DuckDB's: list the columns"),
    Token(r"\bunion\s+(all\s+)?by\s+name\b", "UNION BY NAME is DuckDB's: align the columns"),
    Token(
        r"\bfilter\s*\(\s*where\b", "agg(x) FILTER (WHERE ...) is DuckDB's: agg(if(cond, x, null))"
    ),
    # --- operators
    Token(r"->", "`->`/`->>` are DuckDB's JSON operators and lambdas: json_value(...)"),
    Token(r"//", "`//` is DuckDB's integer division: div(a, b)"),
    Token(r"\*\*", "`**` is DuckDB's power operator: pow(a, b)"),
    Token(r"\bilike\b", "ILIKE is not BigQuery: lower(x) like lower(pattern)"),
    Token(r"\bglob\b", "GLOB is DuckDB's: like or regexp_contains"),
    Token(
        r"\binterval\s+'[^']*'(?!\s*(year|quarter|month|week|day|hour|minute|second)s?\b)",
        "interval '1 day' is DuckDB's: interval 1 day",
    ),
    # --- dates and times (DuckDB puts the part first, as a string; BigQuery last, bare; `week(`
    # is left out: BigQuery writes week(monday) as a date part)
    Token(r"\b(date_?diff|date_?sub)\s*\(\s*'", "DuckDB's date_diff('part', a, b): days_between()"),
    Token(
        r"\b(date|datetime|timestamp)_trunc\s*\(\s*'", "DuckDB order: BigQuery date_trunc(x, part)"
    ),
    Token(r"\bdate_?part\s*\(", "date_part is DuckDB's: extract(part from x)"),
    Token(
        r"\b(year|quarter|month|day|hour|minute|second|dayname|monthname|dayofweek"
        r"|dayofmonth|dayofyear|isodow|isoyear|weekofyear|yearweek)\s*\(",
        "a DuckDB date-part function: extract(part from x)",
    ),
    Token(r"\bstrftime\s*\(", "strftime is DuckDB's: format_date/format_timestamp"),
    Token(r"\bstrptime\s*\(", "strptime is DuckDB's: to_utc_timestamp() or parse_timestamp"),
    Token(r"\bepoch(_ms|_us|_ns)?\s*\(", "epoch* is DuckDB's: unix_seconds/unix_millis"),
    Token(r"\bto_timestamp\s*\(", "to_timestamp(epoch) is DuckDB's: epoch_seconds_to_timestamp()"),
    Token(r"\bmake_(date|time|timestamp|timestamptz)\s*\(", "make_* is DuckDB's: date(y, m, d)"),
    Token(r"\btimezone\s*\(", "timezone() is DuckDB's: league_date() or date/datetime(ts, zone)"),
    Token(
        r"\bat\s+time\s+zone\b",
        "AT TIME ZONE is BigQuery only inside EXTRACT: league_date() or date/datetime(ts, zone)",
        unless=r"\bextract\s*\(",
    ),
    Token(r"\b(now|today|get_current_timestamp)\s*\(", "DuckDB's clock: current_timestamp()"),
    Token(r"\bage\s*\(", "age() is DuckDB's: days_between() or timestamp_diff"),
    # --- text
    Token(
        r"\bregexp_matches\s*\(", "regexp_matches is DuckDB's: regex_matches() (regexp_contains)"
    ),
    Token(r"\bregexp_(full_match|split_to_array|split_to_table)\s*\(", "DuckDB regexp function"),
    Token(
        r"\bregexp_replace\s*\((?:[^()]|\([^()]*\))*?,(?:[^()]|\([^()]*\))*?,"
        r"(?:[^()]|\([^()]*\))*?,\s*'",
        "regexp_replace with DuckDB's options argument: regex_replace() (BigQuery takes 3)",
    ),
    Token(
        r"\bregexp_extract\s*\((?:[^()]|\([^()]*\))*?,(?:[^()]|\([^()]*\))*?,",
        "BigQuery's 3rd regexp_extract argument is a position, not a group: regex_extract()",
    ),
    Token(r"\bstrip_accents\s*\(", "strip_accents is DuckDB's: the strip_accents() macro"),
    Token(
        r"\b(levenshtein|damerau_levenshtein|jaro_similarity|jaro_winkler_similarity|jaccard"
        r"|hamming|mismatches)\s*\(",
        "a DuckDB string-distance function: edit_distance (name_similarity())",
    ),
    Token(r"\b(split_part|string_split|str_split)\s*\(", "DuckDB split: dbt.split_part"),
    Token(r"\blen\s*\(", "len is DuckDB's: length"),
    Token(r"\b(prefix|suffix)\s*\(", "prefix/suffix are DuckDB's: starts_with/ends_with"),
    Token(r"\bcontains\s*\(", "DuckDB's contains(s, x): strpos(s, x) > 0"),
    Token(r"\bposition\s*\(", "position(x in s) is not BigQuery: strpos(s, x) (dbt.position)"),
    Token(r"\bprintf\s*\(", "printf is DuckDB's: format"),
    Token(r"\bgroup_concat\s*\(", "group_concat is DuckDB's: string_agg"),
    Token(r"\b(json_extract_string|json_extract_path|struct_extract)\s*\(", "json_value / a.b"),
    # --- lists, structs, aggregates, numbers
    Token(r"\blist_\w+\s*\(", "list_* functions are DuckDB's: array functions, unnest"),
    Token(r"\b(list|array_agg_distinct)\s*\(", "list() is DuckDB's aggregate: array_agg"),
    Token(r"\bstruct_pack\s*\(", "struct_pack is DuckDB's: struct(x as a)"),
    Token(r"\bcount_if\s*\(", "count_if is DuckDB's: countif"),
    Token(r"\bbool_(and|or)\s*\(", "bool_and/bool_or are DuckDB's: logical_and/logical_or"),
    Token(
        r"\barg_(max|min)\s*\(", "arg_max is DuckDB's: array_agg(x order by y limit 1)[offset(0)]"
    ),
    Token(r"\b(first|last)\s*\(", "first()/last() aggregates are DuckDB's: any_value or array_agg"),
    Token(
        r"\b(median|quantile|quantile_cont|quantile_disc|approx_quantile)\s*\(", "percentile_cont"
    ),
    Token(r"\bhash\s*\(", "hash is DuckDB's: farm_fingerprint (or dbt.hash)"),
    Token(r"(?<!to_hex\()\bmd5\s*\(", "BigQuery's md5 returns bytes: dbt.hash (to_hex(md5(...)))"),
    Token(r"\b(isnan|isinf)\s*\(", "isnan/isinf are DuckDB's: is_nan/is_inf"),
    Token(
        r"\b(random|uuid|gen_random_uuid)\s*\(", "DuckDB's random()/uuid(): rand()/generate_uuid()"
    ),
    Token(
        r"\b(generate_series|read_csv\w*|read_parquet|read_json\w*)\s*\(", "DuckDB table function"
    ),
    # --- quoting
    Token(
        r'"[^"]*"', 'a "double-quoted" name is a string on BigQuery: unquoted or adapter.quote()'
    ),
)


def blank_comments_and_strings(sql: str) -> str:
    """The SQL with comments and the inside of quoted strings and identifiers replaced by spaces:
    offsets and line breaks stay where they were, so a match's line is the source's line. BigQuery's
    lexing: a backslash escapes the next character, in raw strings too."""
    out = list(sql)
    i, n = 0, len(sql)
    while i < n:
        two = sql[i : i + 2]
        if two == "--":
            end = sql.find("\n", i)
            end = n if end == -1 else end
            out[i:end] = " " * (end - i)
            i = end
        elif two == "/*":
            end = sql.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out[i:end] = [c if c == "\n" else " " for c in sql[i:end]]
            i = end
        elif sql[i] in "'\"`":
            quote = sql[i] * 3 if sql[i : i + 3] == sql[i] * 3 else sql[i]
            j = i + len(quote)
            while j < n and not sql.startswith(quote, j):
                j += 2 if sql[j] == "\\" else 1
            for k in range(i + len(quote), min(j, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + len(quote)
        else:
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Finding:
    line: int  # 1-based, in the compiled SQL
    matched: str
    hint: str

    @property
    def message(self) -> str:
        return f"{self.matched!r}: {self.hint}"


def scan_duckdb_only(sql: str, tokens: Iterable[Token] = DUCKDB_ONLY) -> list[Finding]:
    """Every DuckDB-only construct in sql, by line."""
    blanked = blank_comments_and_strings(sql)
    lines = blanked.splitlines()
    findings = []
    for token in tokens:
        for match in token.regex.finditer(blanked):
            line = blanked.count("\n", 0, match.start()) + 1
            if token.unless and re.search(token.unless, lines[line - 1], re.IGNORECASE):
                continue
            matched = " ".join(sql[match.start() : match.end()].split())
            findings.append(Finding(line, matched, token.hint))
    return sorted(findings, key=lambda f: f.line)


# --- compiling -----------------------------------------------------------------------------------


@dataclass
class CompiledSql:
    """One piece of SQL BigQuery would run, and where a person fixes it."""

    unique_id: str
    source_file: str  # the model's .sql, a test's .yml or .sql, a source's .yml
    file: Path  # the compiled text on disk (what sqlfluff reads)
    sql: str
    branches: list[str] = field(default_factory=list)  # empty: no branch applies

    def line_text(self, line: int) -> str:
        lines = self.sql.splitlines()
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def at(self, line: int) -> str:
        if len(self.branches) == len(BRANCHES):
            branch = " (both branches)"
        elif self.branches:
            branch = f" ({self.branches[0]} branch)"
        else:
            branch = ""
        return f"compiled line {line} of {self.file}{branch}"


@dataclass(frozen=True)
class Problem:
    """What one check found, and where."""

    piece: CompiledSql
    line: int  # 1-based in the compiled SQL; 0 when the tool gives none
    message: str


@dataclass(frozen=True)
class BigQueryCompile:
    pieces: list[CompiledSql]
    manifest: dict[str, Any]
    compile_errors: list[str]
    incremental_sql: dict[str, dict[str, str]]  # model id -> branch -> SQL


def write_offline_key(path: Path) -> Path:
    """A well-formed service-account key around a fresh RSA key: enough for dbt-bigquery to build
    its client. Its token endpoint is a closed loopback port: should anything try to sign in, it
    fails at once instead of retrying Google's endpoint for minutes."""
    # cryptography comes with the bigquery extra (google-auth needs it)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "nba-props-offline",
        "private_key_id": "0" * 40,
        "private_key": pem,
        "client_email": "offline-compile@nba-props-offline.iam.gserviceaccount.com",
        "client_id": "0",
        "auth_uri": "http://127.0.0.1:9/auth",
        "token_uri": "http://127.0.0.1:9/token",
    }
    path.write_text(json.dumps(info))
    return path


def dbt_compile(target_path: Path, *, incremental: bool, extra: Iterable[str] = ()) -> Any:
    """`dbt compile --target bigquery` in this process (no 2-3 s CLI start-up)."""
    args = [
        "compile",
        *extra,
        "--project-dir",
        str(REPO),
        "--profiles-dir",
        str(REPO),
        "--target",
        "bigquery",
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
        "--no-populate-cache",
        "--no-introspect",
        "--vars",
        json.dumps({"compile_offline_incremental": incremental}),
    ]
    result = dbtRunner().invoke(args)
    if result.exception is not None:
        pytest.fail(f"dbt could not compile for BigQuery: {result.exception}", pytrace=False)
    return result


def node_results(result: Any) -> Iterator[Any]:
    yield from getattr(result.result, "results", [])


def compiled_pieces(result: Any, branch: str, errors: list[str]) -> Iterator[CompiledSql]:
    for run in node_results(result):
        node = run.node
        if node.package_name != "nba_props" or node.resource_type not in {"model", "test"}:
            continue
        if str(run.status) != "success":
            errors.append(f"{node.original_file_path} ({node.unique_id}): {run.message}")
            continue
        yield CompiledSql(
            node.unique_id,
            node.original_file_path,
            Path(node.compiled_path),
            node.compiled_code,
            [branch],
        )


def freshness_queries(manifest: dict[str, Any], folder: Path) -> Iterator[CompiledSql]:
    """What `dbt source freshness` runs on BigQuery (dbt's collect_freshness), per source table:
    the loaded_at_field is inline Jinja on target.type, rendered when the project was parsed."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in manifest["sources"].values():
        if source["package_name"] != "nba_props":
            continue
        config = source.get("config") or {}
        loaded_at = source.get("loaded_at_field") or config.get("loaded_at_field")
        loaded_at_query = source.get("loaded_at_query") or config.get("loaded_at_query")
        where = ((source.get("freshness") or {}).get("filter")) or None
        if loaded_at_query:
            sql = (
                f"with source_query as (\n{loaded_at_query}\n)\n"
                "select\n    (select * from source_query) as max_loaded_at,\n"
                "    current_timestamp() as snapshotted_at\n"
            )
        elif loaded_at:
            sql = (
                f"select\n    max({loaded_at}) as max_loaded_at,\n"
                f"    current_timestamp() as snapshotted_at\nfrom {source['relation_name']}\n"
                + (f"where {where}\n" if where else "")
            )
        else:
            continue  # test_structure.py's every_source_has_freshness reports it
        path = folder / f"{source['source_name']}.{source['name']}.sql"
        path.write_text(sql)
        yield CompiledSql(source["unique_id"], source["original_file_path"], path, sql)


MACRO_SIGNATURE = re.compile(r"\{%-?\s*macro\s+(\w+)\s*\(([^)]*)\)")


def cross_db_probe() -> str:
    """One select calling every public macro in macros/cross_db/ with placeholder columns, so that
    their BigQuery variants are checked even before a model uses them."""
    calls = []
    for path in sorted((REPO / "macros" / "cross_db").glob("*.sql")):
        for name, params in MACRO_SIGNATURE.findall(path.read_text()):
            if "__" in name:
                continue
            required = [p.strip() for p in params.split(",") if p.strip() and "=" not in p]
            args = ", ".join(f"'probe_{i}'" for i in range(1, len(required) + 1))
            calls.append(f"    {{{{ {name}({args}) }}}} as {name}_probe")
    return "select\n" + ",\n".join(calls) + "\nfrom probe_inputs\n"


@pytest.fixture(scope="session")
def bigquery_compile(tmp_path_factory: pytest.TempPathFactory) -> BigQueryCompile:
    """Compile the project for BigQuery once per branch, with no network and no credentials."""
    pytest.importorskip("dbt.adapters.bigquery", reason="the bigquery extra: make install-bigquery")
    workdir = tmp_path_factory.mktemp("bigquery_compile")
    by_key: dict[tuple[str, str], CompiledSql] = {}
    incremental_sql: dict[str, dict[str, str]] = {}
    errors: list[str] = []
    manifest: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(write_offline_key(workdir / "key.json")))
        env.setenv("NBA_PROPS_BQ_PROJECT", "nba-props-offline")
        env.setenv("NBA_PROPS_BQ_DATASET", "nba_props")
        for branch, incremental in BRANCHES.items():
            target_path = workdir / branch
            result = dbt_compile(target_path, incremental=incremental)
            for piece in compiled_pieces(result, branch, errors):
                incremental_sql.setdefault(piece.unique_id, {})[branch] = piece.sql
                same = by_key.get((piece.unique_id, piece.sql))
                if same is None:
                    by_key[piece.unique_id, piece.sql] = piece
                else:
                    same.branches.append(branch)
            manifest = json.loads((target_path / "manifest.json").read_text())
        # same vars and target path as the last compile: partial parsing makes this one quick
        probe = dbt_compile(
            workdir / "incremental",
            incremental=True,
            extra=["--quiet", "--inline", cross_db_probe()],
        )
    if not probe.success:
        pytest.fail(
            f"a cross-db macro does not compile for BigQuery: {probe.result}", pytrace=False
        )
    [probe_node] = [run.node for run in node_results(probe)]
    probe_file = workdir / "cross_db_probe.sql"
    probe_file.write_text(probe_node.compiled_code)
    pieces = list(by_key.values())
    pieces += freshness_queries(manifest, workdir / "freshness")
    pieces.append(
        CompiledSql("macros/cross_db", "macros/cross_db/*.sql", probe_file, probe_file.read_text())
    )
    models = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["package_name"] == "nba_props"
        and node["config"].get("materialized") == "incremental"
    }
    return BigQueryCompile(
        pieces,
        manifest,
        errors,
        {uid: sql for uid, sql in incremental_sql.items() if uid in models},
    )


# --- the checks ----------------------------------------------------------------------------------


def sqlfluff_findings(pieces: list[CompiledSql], workdir: Path) -> list[Problem]:
    """sqlfluff's BigQuery parser and SQLFLUFF_RULES over the compiled files, two processes."""
    config = workdir / "bigquery.sqlfluff"
    config.write_text(SQLFLUFF_CONFIG)
    by_file = {str(piece.file): piece for piece in pieces}
    command = [
        str(SQLFLUFF),
        "lint",
        "--dialect",
        "bigquery",
        "--templater",
        "raw",
        "--config",
        str(config),
        "--ignore-local-config",
        "--format",
        "json",
        "--nofail",
        "--disable-progress-bar",
        "--processes",
        "2",
        *by_file,
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if run.returncode != 0 or not run.stdout.strip():
        pytest.fail(f"sqlfluff failed to run ({run.returncode}): {run.stderr[-2000:]}")
    return [
        Problem(
            by_file[report["filepath"]],
            violation["start_line_no"],
            f"sqlfluff {violation['code']}: {violation['description']}",
        )
        for report in json.loads(run.stdout)
        for violation in report["violations"]
    ]


def sqlglot_findings(piece: CompiledSql) -> list[Problem]:
    try:
        sqlglot.parse(piece.sql, read="bigquery")
    except sqlglot.errors.ParseError as error:
        return [
            Problem(piece, detail.get("line") or 0, f"sqlglot: {detail.get('description')}")
            for detail in error.errors
        ] or [Problem(piece, 0, f"sqlglot: {error}")]
    except sqlglot.errors.TokenError as error:
        return [Problem(piece, 0, f"sqlglot could not tokenize it: {error}")]
    return []


def scan_findings(piece: CompiledSql) -> list[Problem]:
    return [
        Problem(piece, found.line, f"DuckDB-only {found.message}")
        for found in scan_duckdb_only(piece.sql)
    ]


def describe(problems: list[Problem]) -> str:
    """One paragraph per problem: the file to fix, the offending line and what is wrong, with
    every compiled place it shows up (both branches, twice on a line) listed once."""
    grouped: dict[tuple[str, str, str, str], dict[str, None]] = {}
    for problem in problems:
        piece = problem.piece
        key = (piece.source_file, piece.unique_id, piece.line_text(problem.line), problem.message)
        grouped.setdefault(key, {})[piece.at(problem.line)] = None
    return f"{len(grouped)} problem(s):\n\n" + "\n\n".join(
        f"{source_file} ({unique_id})\n    {text}\n  {message}\n  at " + "\n  and ".join(places)
        for (source_file, unique_id, text, message), places in grouped.items()
    )


def fail_on(problems: list[Problem]) -> None:
    if problems:
        pytest.fail(describe(problems), pytrace=False)


@pytest.mark.slow
def test_every_model_and_test_compiles_for_bigquery(bigquery_compile: BigQueryCompile) -> None:
    assert bigquery_compile.compile_errors == []
    expected = {
        uid
        for uid, node in bigquery_compile.manifest["nodes"].items()
        if node["package_name"] == "nba_props"
        and node["resource_type"] in {"model", "test"}
        and node["config"].get("enabled", True)
    }
    compiled = {piece.unique_id for piece in bigquery_compile.pieces}
    assert expected, "the project has no models or tests"
    assert expected <= compiled


@pytest.mark.slow
def test_incremental_models_compile_both_branches(bigquery_compile: BigQueryCompile) -> None:
    same = [
        f"{uid} renders the same SQL in both branches: is_incremental() never decides anything"
        for uid, branches in bigquery_compile.incremental_sql.items()
        if len(set(branches.values())) != 2
    ]
    assert same == []


@pytest.mark.slow
def test_compiled_sql_parses_as_bigquery_in_sqlfluff(
    bigquery_compile: BigQueryCompile, tmp_path: Path
) -> None:
    fail_on(sqlfluff_findings(bigquery_compile.pieces, tmp_path))


@pytest.mark.slow
def test_compiled_sql_parses_as_bigquery_in_sqlglot(bigquery_compile: BigQueryCompile) -> None:
    fail_on([f for piece in bigquery_compile.pieces for f in sqlglot_findings(piece)])


@pytest.mark.slow
def test_compiled_sql_has_no_duckdb_only_syntax(bigquery_compile: BigQueryCompile) -> None:
    fail_on([f for piece in bigquery_compile.pieces for f in scan_findings(piece)])


# A type BigQuery knows, with its parameters: what a seed's column_types and an enforced contract's
# data_type turn into DDL (neither is compiled SQL, so the scan never sees them).
BIGQUERY_TYPE = re.compile(
    r"^\s*(int64|int|smallint|integer|bigint|tinyint|byteint|numeric|decimal|bignumeric"
    r"|bigdecimal|float64|bool|boolean|string|bytes|date|datetime|time|timestamp|interval|json"
    r"|geography)\s*(\(\s*\d+\s*(,\s*\d+\s*)?\))?\s*$|^\s*(array|struct|range)\s*<",
    re.IGNORECASE,
)


def declared_types(manifest: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(file, node, column, type) for every seed column type and enforced-contract column type."""
    for uid, node in manifest["nodes"].items():
        if node["package_name"] != "nba_props":
            continue
        config = node.get("config") or {}
        if node["resource_type"] == "seed":
            for column, data_type in (config.get("column_types") or {}).items():
                yield "dbt_project.yml (seeds: column_types)", uid, column, str(data_type)
        contract = config.get("contract") or {}
        if node["resource_type"] == "model" and contract.get("enforced"):
            for column in node.get("columns", {}).values():
                if column.get("data_type"):
                    where = (node.get("patch_path") or node["original_file_path"]).split("://")[-1]
                    yield where, uid, column["name"], column["data_type"]


@pytest.mark.slow
def test_declared_column_types_exist_on_bigquery(bigquery_compile: BigQueryCompile) -> None:
    bad = [
        f"{where}: {uid}.{column} is typed {data_type!r}, which BigQuery does not know"
        for where, uid, column, data_type in declared_types(bigquery_compile.manifest)
        if not BIGQUERY_TYPE.match(data_type)
    ]
    if bad:
        pytest.fail("\n".join(bad), pytrace=False)


# --- the checks can fail -------------------------------------------------------------------------


DUCKDB_SNIPPET = """\
-- a comment may say varchar, try_cast and :: freely
with stats as (
    select player_id, minutes::double as minutes_played from raw
),
final as (
    select * exclude (minutes_played),
        try_cast(points as integer) as points,
        strftime(game_at, '%Y-%m-%d') as game_day,
        date_diff('day', first_game, last_game) as days,
        regexp_matches(name, '^[A-Z]') as is_capital,
        epoch_ms(game_at) as game_ms,
        list_value(1, 2) as pair,
        struct_pack(a := 1) as packed,
        cast(name as varchar) as player_name,
        game_at at time zone 'America/New_York' as local_at,
        'it is fine to write :: or varchar inside a string' as note
    from stats
)
select * from final
"""


def test_the_scan_finds_duckdb_only_syntax_by_line() -> None:
    found = {(f.line, f.matched.lower()) for f in scan_duckdb_only(DUCKDB_SNIPPET)}
    assert found == {
        (3, "::"),
        (6, "* exclude"),
        (7, "try_cast("),
        (8, "strftime("),
        (9, "date_diff('"),
        (10, "regexp_matches("),
        (11, "epoch_ms("),
        (12, "list_value("),
        (13, "struct_pack("),
        (14, "varchar"),
        (15, "at time zone"),
    }


def test_the_scan_passes_portable_bigquery() -> None:
    portable = """\
select
    date(game_at, 'America/New_York') as game_date,
    date_diff(last_game, first_game, day) as days,
    regexp_replace(normalize(name, nfd), r'\\p{M}', '') as plain_name,
    safe_cast(points as int64) as points,
    extract(hour from game_at at time zone 'America/New_York') as local_hour,
    to_hex(md5(cast(player_id as string))) as player_hash,
    timestamp_seconds(cast(cast(_dlt_load_id as float64) as int64)) as loaded_at,
    date_add(game_date, interval 1 day) as next_day,
    date_trunc(game_date, week(monday)) as game_week,
    'x::y "quoted" // varchar' as note  -- comment: try_cast(x)
from `nba-props-offline`.`staging`.`stg_games`
where a >= 1 /* ::, "x", * exclude */
qualify row_number() over (partition by game_id order by loaded_at desc) = 1
"""
    assert scan_duckdb_only(portable) == []


def test_a_finding_names_the_file_and_the_offending_line(tmp_path: Path) -> None:
    piece = CompiledSql(
        "model.nba_props.stg_x",
        "dbt_project/staging/x/stg_x.sql",
        tmp_path / "stg_x.sql",
        "select\n    a::int64 as b\nfrom t\n",
        ["full-refresh", "incremental"],
    )
    message = describe(scan_findings(piece))
    assert message.startswith("1 problem(s):\n\ndbt_project/staging/x/stg_x.sql ")
    assert "\n    a::int64 as b\n" in message
    assert "compiled line 2 of" in message


def test_the_parsers_reject_what_bigquery_rejects(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("select *\n    exclude (a)\nfrom t\nunion\nselect 1\n")
    piece = CompiledSql("model.nba_props.bad", "dbt_project/bad.sql", bad, bad.read_text())
    fluff = sqlfluff_findings([piece], tmp_path)
    # `* exclude` on line 2, and a bare UNION (BigQuery wants ALL or DISTINCT) on line 4
    assert {(problem.line, problem.message[:12]) for problem in fluff} == {
        (2, "sqlfluff PRS"),
        (4, "sqlfluff PRS"),
    }
    unbalanced = CompiledSql("model.nba_props.b", "dbt_project/b.sql", bad, "select (1 from t\n")
    assert sqlglot_findings(unbalanced)
