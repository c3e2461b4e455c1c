{#- An ISO 8601 text with its zone ("2026-01-15T19:00:00-05:00", "2026-01-16T00:00:00.000Z", and
    ESPN's "2026-01-16T00:30Z" without seconds) as the warehouse's UTC timestamp: a plain UTC
    TIMESTAMP on DuckDB (the convention of as_utc in dates.sql), a TIMESTAMP on BigQuery. Neither
    warehouse parses a time without seconds, so ":00" is added first. Empty text gives NULL; text
    that is not a timestamp raises, as a cast does. A text without a zone would be read in the
    session's zone on DuckDB and as UTC on BigQuery: do not pass one. -#}
{% macro to_utc_timestamp(text_expr) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'nba_props')(text_expr)) }}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(text_expr) -%}
    cast(timezone('UTC', cast(regexp_replace(
        nullif(trim({{ text_expr }}), ''),
        '^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[Tt ][0-9]{1,2}:[0-9]{2})([^:0-9].*)?$',
        '\1:00\2'
    ) as timestamptz)) as timestamp)
{%- endmacro %}

{#- Raw literals: a BigQuery '...' string reads a backslash as an escape ('\1' is an error). -#}
{% macro bigquery__to_utc_timestamp(text_expr) -%}
    timestamp(regexp_replace(
        nullif(trim({{ text_expr }}), ''),
        r'^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[Tt ][0-9]{1,2}:[0-9]{2})([^:0-9].*)?$',
        r'\1:00\2'
    ))
{%- endmacro %}

{#- No third warehouse is checked: say so at compile time rather than guess its dialect. -#}
{% macro default__to_utc_timestamp(text_expr) -%}
    {{ exceptions.raise_compiler_error(
        "to_utc_timestamp has no implementation for adapter '" ~ adapter.type()
        ~ "': add one beside duckdb__ and bigquery__ in macros/cross_db/to_utc_timestamp.sql"
    ) }}
{%- endmacro %}
