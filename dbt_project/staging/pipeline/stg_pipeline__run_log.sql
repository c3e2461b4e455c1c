-- noqa: disable=RF04
-- (error is the house column name, as the raw table's)
-- One row per step per run of the daily job, typed; empty until the first run creates the raw table.
{%- set raw = source('raw_pipeline', 'run_log') %}
{%- set loaded = relation_exists(raw) %}

with

source as (

    {% if loaded %}
        select * from {{ raw }}
    {% else %}
        select
            cast(null as {{ dbt.type_string() }}) as run_id,
            cast(null as {{ dbt.type_string() }}) as step,
            cast(null as date) as run_date,
            cast(null as timestamp) as started_at,
            cast(null as timestamp) as finished_at,
            cast(null as {{ dbt.type_string() }}) as status,
            cast(null as {{ dbt.type_bigint() }}) as rows_in,
            cast(null as {{ dbt.type_bigint() }}) as rows_out,
            cast(null as {{ dbt.type_string() }}) as error,
            cast(null as {{ dbt.type_string() }}) as details
        from (select 1 as one) as nothing
        where false
    {% endif %}

),

final as (

    select
        run_id,
        step,
        run_date,
        started_at,
        finished_at,
        status,
        {{ dbt.datediff('started_at', 'finished_at', 'second') }} as seconds,  -- noqa: LT05
        rows_in,
        rows_out,
        error,
        cast(details as {{ dbt.type_string() }}) as details
    from source

)

select * from final
