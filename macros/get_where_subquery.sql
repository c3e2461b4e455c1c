{#- dbt's own macro, plus one placeholder: a data test whose `where` says `__loaded_since_last_build__`
    checks, in the daily job (var tests_on_new_loads_only, which pipeline/selection.py sets), only
    the rows loaded since the job's last successful feature build, the only rows an insert-only
    incremental model can have added since; `make test` and every other build check the whole
    table. The placeholder is replaced when the test runs, with the run log as it then stands. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__loaded_since_last_build__' in where -%}
        {%- set where = where | replace('__loaded_since_last_build__', loaded_since_last_build()) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
