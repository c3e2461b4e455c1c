-- One row per team per ESPN event: home or away, the house team key, the score.
with

source as (

    select * from {{ source('raw_espn', 'competitors') }}

),

teams as (

    select * from {{ ref('team_codes') }}

),

final as (

    select
        source.event_id as espn_event_id,
        source.id as espn_team_id,
        teams.team_key,
        source.home_away = 'home' as is_home,
        {{ dbt.safe_cast('source.score', dbt.type_int()) }} as score,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source
    left outer join teams on source.team__id = teams.espn_id

)

select * from final
