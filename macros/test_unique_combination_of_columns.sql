{#- Grain test for models keyed on several columns (dbt_utils cannot be installed here).
    Fails with one row per duplicated key, and also on a key with a NULL part: a NULL in a key is how
    the old pipeline's MERGEs duplicated rows. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with validation as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_records
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}

),

duplicated as (

    select * from validation
    where
        n_records > 1
        {%- for column in combination_of_columns %}
        or {{ column }} is null
        {%- endfor %}

)

select * from duplicated

{% endtest %}
