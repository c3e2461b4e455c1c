{#- Whether a relation exists in the warehouse, for a source that may legitimately be absent (a
    paid endpoint extract never asks on a free plan). The offline BigQuery compile check has no
    warehouse to ask (var compile_offline_incremental is set there): it compiles the real branch. -#}
{% macro relation_exists(relation) %}
    {%- if not execute or var('compile_offline_incremental', none) is not none -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none) }}
{% endmacro %}
