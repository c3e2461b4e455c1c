{#- On DuckDB dbt.safe_cast is a plain cast that raises on bad data; BigQuery's safe_cast returns NULL.
    This override gives DuckDB BigQuery's behaviour so the same model means the same on both. -#}
{% macro duckdb__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}
