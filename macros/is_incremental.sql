{#- dbt's own is_incremental() asks the warehouse whether the model's table exists. The offline
    BigQuery compile check (tests/dbt_project/test_bigquery_compile.py) has no warehouse to ask, so
    there the var compile_offline_incremental chooses the branch to render: true renders the
    incremental branch, false the full-refresh one. Unset (every real run) this is dbt's macro. -#}
{% macro is_incremental() %}
    {%- set offline = var('compile_offline_incremental', none) -%}
    {%- if offline is none -%}
        {{ return(dbt.is_incremental()) }}
    {%- endif -%}
    {{ return(
        execute
        and offline in (true, 'true')
        and model.config.materialized == 'incremental'
        and not should_full_refresh()
    ) }}
{% endmacro %}
