-- One row per player per final game as balldontlie reports it: minutes parsed, the team he
-- played for (the row's team, not his current one), his name key.
with

source as (

    select * from {{ source('raw_balldontlie', 'stats') }}

),

teams as (

    select * from {{ ref('team_codes') }}

),

renamed as (

    select
        source.id as bdl_stat_id,
        source.game__id as bdl_game_id,
        source.player__id as bdl_player_id,
        source.team__id as bdl_team_id,
        trim(concat(coalesce(source.player__first_name, ''), ' ', source.player__last_name))
            as player_name,
        source.min as minutes_raw,
        {{ minutes_played('source.min') }} as minutes_played,
        source.pts as points,
        source.reb as rebounds,
        source.ast as assists,
        source.fg3m as threes_made,
        source.fg3a as threes_attempted,
        source.fgm as field_goals_made,
        source.fga as field_goals_attempted,
        source.ftm as free_throws_made,
        source.fta as free_throws_attempted,
        source.oreb as offensive_rebounds,
        source.dreb as defensive_rebounds,
        source.stl as steals,
        source.blk as blocks,
        source.turnover as turnovers,
        source.pf as fouls,
        {{ epoch_seconds_to_timestamp('source._dlt_load_id') }} as loaded_at
    from source

),

final as (

    select
        renamed.bdl_stat_id,
        renamed.bdl_game_id,
        renamed.bdl_player_id,
        teams.team_key,
        renamed.player_name,
        {{ name_key('renamed.player_name') }} as player_name_key,
        renamed.minutes_raw,
        renamed.minutes_played,
        -- no minutes (NULL, "" or 0) is a did-not-play row, whatever its (null) stats say
        coalesce(renamed.minutes_played, 0) = 0 as did_not_play,
        renamed.minutes_raw is not null
        and trim(renamed.minutes_raw) != ''
        and renamed.minutes_played is null as has_unparsed_minutes,
        renamed.points,
        renamed.rebounds,
        renamed.assists,
        renamed.threes_made,
        renamed.threes_attempted,
        renamed.field_goals_made,
        renamed.field_goals_attempted,
        renamed.free_throws_made,
        renamed.free_throws_attempted,
        renamed.offensive_rebounds,
        renamed.defensive_rebounds,
        renamed.steals,
        renamed.blocks,
        renamed.turnovers,
        renamed.fouls,
        renamed.loaded_at
    from renamed
    left outer join teams on renamed.bdl_team_id = teams.bdl_id

)

select * from final
