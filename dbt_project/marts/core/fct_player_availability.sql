-- Per game, every player of either team named on an injury report read in the 36 hours before
-- tip-off, one row per report snapshot: his status as known then. `is_pick_time_report` marks the
-- last snapshot at or before the game's pick time: the one the feature store reads (a player it
-- does not name was not reported, so available). ESPN's report first, balldontlie's where ESPN's
-- does not name him.
with

games as (

    select * from {{ ref('dim_games') }}

),

espn_reports as (

    select * from {{ ref('stg_injuries__espn_injuries') }}

),

bdl_reports as (

    select * from {{ ref('stg_injuries__bdl_player_injuries') }}

),

crosswalk as (

    select * from {{ ref('int_player_crosswalk') }}

),

players as (

    select * from {{ ref('stg_balldontlie__players') }}

),

espn_named as (

    select
        espn_reports.snapshot_at,
        espn_reports.team_key,
        coalesce(crosswalk.player_id, players.bdl_player_id) as player_id,
        case
            when crosswalk.player_id is not null then 'espn_id'
            when players.bdl_player_id is not null then 'name_and_team'
        end as player_match,
        espn_reports.player_name,
        espn_reports.injury_status,
        espn_reports.reported_at,
        espn_reports.injury_detail,
        espn_reports.expected_return_date,
        'espn' as report_source,
        espn_reports.loaded_at
    from espn_reports
    left outer join crosswalk
        on crosswalk.source = 'espn' and espn_reports.espn_player_id = crosswalk.source_player_ref
    -- a player hurt all season has no box score to match an id on: his name on his team
    left outer join players
        on
            crosswalk.player_id is null
            and espn_reports.player_name_key = players.player_name_key
            and espn_reports.team_key = players.current_team_key

),

bdl_named as (

    select
        snapshot_at,
        team_key,
        bdl_player_id as player_id,
        'id' as player_match,
        player_name,
        injury_status,
        cast(null as timestamp) as reported_at,
        comment as injury_detail,
        cast(null as date) as expected_return_date,
        'balldontlie' as report_source,
        loaded_at
    from bdl_reports

),

reports as (

    select * from espn_named
    union all
    select * from bdl_named

),

snapshots as (

    select distinct snapshot_at from reports

),

game_windows as (

    select
        game_id,
        game_date,
        home_team_key,
        away_team_key,
        tipoff_at,
        least({{ league_time_on('game_date', var('pick_cutoff_local_time', '12:00')) }}, tipoff_at) as pick_at
    from games

),

-- the last snapshot read at or before each game's pick time
pick_snapshots as (

    select
        game_windows.game_id,
        max(snapshots.snapshot_at) as pick_snapshot_at
    from game_windows
    inner join snapshots on game_windows.pick_at >= snapshots.snapshot_at
    group by game_windows.game_id

),

final as (

    select
        game_windows.game_id,
        reports.player_id,
        reports.snapshot_at,
        game_windows.game_date,
        reports.team_key,
        reports.player_name,
        reports.player_match,
        reports.injury_status,
        reports.reported_at,
        reports.injury_detail,
        reports.expected_return_date,
        reports.report_source,
        reports.loaded_at,
        reports.injury_status = 'out' as is_out,
        coalesce(reports.snapshot_at = pick_snapshots.pick_snapshot_at, false) as is_pick_time_report
    from game_windows
    inner join reports
        on
            reports.team_key in (game_windows.home_team_key, game_windows.away_team_key)
            and game_windows.tipoff_at > reports.snapshot_at
            and reports.snapshot_at >= {{ dbt.dateadd('hour', -36, 'game_windows.tipoff_at') }}
    left outer join pick_snapshots on game_windows.game_id = pick_snapshots.game_id
    qualify row_number() over (
        partition by
            game_windows.game_id,
            coalesce(cast(reports.player_id as {{ dbt.type_string() }}), reports.player_name),
            reports.snapshot_at
        order by case reports.report_source when 'espn' then 1 else 2 end
    ) = 1

)

select * from final
