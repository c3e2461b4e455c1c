{#- Dates and timestamps, spelt once per warehouse. Every timestamp in the warehouse is UTC; a
    game's game_date is its calendar date in the league's time zone (var league_timezone). -#}

{#- The calendar date of a UTC timestamp in America/New_York. -#}
{% macro league_date(ts) -%}
    {{ return(adapter.dispatch('league_date', 'nba_props')(ts)) }}
{%- endmacro %}

{#- DuckDB: the argument is a plain UTC timestamp (staging makes every timestamp one). -#}
{% macro default__league_date(ts) -%}
    cast(timezone('{{ var("league_timezone") }}', timezone('UTC', {{ ts }})) as date)
{%- endmacro %}

{% macro bigquery__league_date(ts) -%}
    date({{ ts }}, '{{ var("league_timezone") }}')
{%- endmacro %}

{#- A UTC instant from epoch seconds (dlt's _dlt_load_id is one, as text). -#}
{% macro epoch_seconds_to_timestamp(expr) -%}
    {{ return(adapter.dispatch('epoch_seconds_to_timestamp', 'nba_props')(expr)) }}
{%- endmacro %}

{% macro default__epoch_seconds_to_timestamp(expr) -%}
    cast(timezone('UTC', to_timestamp(cast({{ expr }} as double))) as timestamp)
{%- endmacro %}

{% macro bigquery__epoch_seconds_to_timestamp(expr) -%}
    timestamp_micros(cast(cast({{ expr }} as float64) * 1000000 as int64))
{%- endmacro %}

{#- A timestamp column read as a UTC instant: DuckDB's timestamptz prints in the session zone, so
    the warehouse keeps plain UTC timestamps; BigQuery's TIMESTAMP is already an instant. -#}
{% macro as_utc(ts) -%}
    {{ return(adapter.dispatch('as_utc', 'nba_props')(ts)) }}
{%- endmacro %}

{% macro default__as_utc(ts) -%}
    cast(timezone('UTC', {{ ts }}) as timestamp)
{%- endmacro %}

{% macro bigquery__as_utc(ts) -%}
    cast({{ ts }} as timestamp)
{%- endmacro %}

{#- Whole days from start to end (dates). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'nba_props')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    date_diff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro bigquery__days_between(start_date, end_date) -%}
    date_diff({{ end_date }}, {{ start_date }}, day)
{%- endmacro %}

{#- Seconds from start to end (timestamps), as a float. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'nba_props')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__seconds_between(start_ts, end_ts) -%}
    cast(date_diff('second', {{ start_ts }}, {{ end_ts }}) as double)
{%- endmacro %}

{% macro bigquery__seconds_between(start_ts, end_ts) -%}
    cast(timestamp_diff({{ end_ts }}, {{ start_ts }}, second) as float64)
{%- endmacro %}

{#- A league-zone wall-clock time on a date, as a UTC instant: the pick-time cut-off. -#}
{% macro league_time_on(date_expr, hhmm) -%}
    {{ return(adapter.dispatch('league_time_on', 'nba_props')(date_expr, hhmm)) }}
{%- endmacro %}

{% macro default__league_time_on(date_expr, hhmm) -%}
    cast(timezone('UTC', timezone('{{ var("league_timezone") }}', cast({{ date_expr }} as timestamp) + cast('{{ hhmm }}' as interval))) as timestamp)
{%- endmacro %}

{% macro bigquery__league_time_on(date_expr, hhmm) -%}
    timestamp(datetime({{ date_expr }}, time '{{ hhmm }}:00'), '{{ var("league_timezone") }}')
{%- endmacro %}
