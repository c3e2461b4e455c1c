{#- Use the folder's schema name as it is (staging, analytics, reference...) rather than dbt's default
    `<target schema>_<custom schema>`, so an analyst finds `analytics.dim_teams` in every warehouse. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
