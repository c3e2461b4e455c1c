{#- The rows loaded since the daily job's last successful `dbt_features` step started (its extract
    had loaded everything that build saw), or every row when not in the daily job or before it
    has one. -#}
{% macro loaded_since_last_build() -%}
    {%- if not execute or not var('tests_on_new_loads_only', false) -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set run_log = source('raw_pipeline', 'run_log') -%}
    {%- if adapter.get_relation(run_log.database, run_log.schema, run_log.identifier) is none -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set since -%}
        loaded_at > (
            select coalesce(max(started_at), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }})
            from {{ run_log }}
            where step = 'dbt_features' and status = 'ok'
        )
    {%- endset -%}
    {{ return(since) }}
{%- endmacro %}
