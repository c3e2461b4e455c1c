-- (source, comment and the like are the house column names)
-- One row per balldontlie player (the all-time list): name, name key, current team.
with

source as (

    select * from {{ source('raw_balldontlie', 'players') }}

),

teams as (

    select * from {{ ref('team_codes') }}

),

final as (

    select
        source.id as bdl_player_id,
        source.first_name,
        source.last_name,
        trim(concat(coalesce(source.first_name, ''), ' ', source.last_name)) as player_name,
        {{ name_key("concat(coalesce(source.first_name, ''), ' ', source.last_name)") }}
            as player_name_key,
        nullif(trim(source.position), '') as position,
        -- the current team: NULL for a defunct franchise (balldontlie keeps the all-time list)
        teams.team_key as current_team_key,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source
    left outer join teams on source.team__id = teams.bdl_id

)

select * from final
