{#- Fails (or warns, by its config) with one row per row of the model past max_rows: the model's
    rows are returned, so the failure shows them by name. -#}
{% test row_count_at_most(model, max_rows=0) %}

select *
from {{ model }}
where (select count(*) from {{ model }}) > {{ max_rows }}

{% endtest %}
