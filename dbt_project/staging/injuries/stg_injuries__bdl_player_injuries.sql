-- (source, comment and the like are the house column names)
-- One row per player per balldontlie injury-report snapshot (paid plans only): status normalised,
-- team mapped. balldontlie's return date is text without a year ("Jan 5"): kept as sent.
-- On the free plan extract never asks, so the raw table may not exist: then this is empty.
{%- set raw = source('raw_injuries', 'bdl_player_injuries') %}
{%- set loaded = relation_exists(raw) %}

with

source as (

    {% if loaded %}
    select * from {{ raw }}
    {% else %}
        select
            cast(null as timestamp) as snapshot_at,
            cast(null as {{ dbt.type_bigint() }}) as player__id,
            cast(null as {{ dbt.type_string() }}) as player__first_name,
            cast(null as {{ dbt.type_string() }}) as player__last_name,
            cast(null as {{ dbt.type_bigint() }}) as player__team__id,
            cast(null as {{ dbt.type_string() }}) as status,
            cast(null as {{ dbt.type_string() }}) as return_date,
            cast(null as {{ dbt.type_string() }}) as description,
            cast(null as {{ dbt.type_string() }}) as _dlt_load_id
        from (select 1 as one) as no_rows
        where false
    {% endif %}

),

teams as (

    select * from {{ ref('team_codes') }}

),

final as (

    select
        {{ as_utc('source.snapshot_at') }} as snapshot_at,
        source.player__id as bdl_player_id,
        teams.team_key,
        trim(concat(coalesce(source.player__first_name, ''), ' ', source.player__last_name)) as player_name,
        lower(trim(source.status)) as injury_status,
        source.return_date as expected_return_text,
        source.description as comment,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source
    left outer join teams on source.player__team__id = teams.bdl_id

)

select * from final
