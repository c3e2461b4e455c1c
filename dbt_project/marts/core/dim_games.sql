-- (the final step reads one reconciled row set; its columns are unambiguous)
-- One row per game, reconciled across the three sources on (game_date, home team, away team):
-- each source's id, the UTC tip-off, the score and status, a flag where sources disagree, and the
-- latest load of the rows it is built from (what an incremental model downstream watches).
with

bdl_games as (

    select * from {{ ref('stg_balldontlie__games') }}

),

espn_events as (

    select * from {{ ref('stg_espn__events') }}

),

espn_competitors as (

    select * from {{ ref('stg_espn__competitors') }}

),

odds_events as (

    select * from {{ ref('stg_odds_api__events') }}

),

bdl as (

    select
        bdl_game_id,
        game_date,
        home_team_key,
        away_team_key,
        tipoff_at,
        bdl_game_date,
        season,
        is_postseason,
        is_final,
        home_score,
        away_score,
        loaded_at
    from bdl_games
    -- one row per game key: a rescheduled duplicate keeps the latest load
    qualify row_number() over (
        partition by game_date, home_team_key, away_team_key order by loaded_at desc, bdl_game_id desc
    ) = 1

),

espn as (

    select
        espn_events.espn_event_id,
        espn_events.game_date,
        home.team_key as home_team_key,
        away.team_key as away_team_key,
        espn_events.tipoff_at,
        espn_events.season,
        espn_events.is_final,
        home.score as home_score,
        away.score as away_score,
        greatest(espn_events.loaded_at, home.loaded_at, away.loaded_at) as loaded_at
    from espn_events
    inner join espn_competitors as home
        on espn_events.espn_event_id = home.espn_event_id and home.is_home
    inner join espn_competitors as away
        on espn_events.espn_event_id = away.espn_event_id and not away.is_home
    qualify row_number() over (
        partition by espn_events.game_date, home.team_key, away.team_key
        order by espn_events.loaded_at desc, espn_events.espn_event_id desc
    ) = 1

),

odds as (

    select
        odds_event_id,
        game_date,
        home_team_key,
        away_team_key,
        tipoff_at,
        loaded_at
    from odds_events
    qualify row_number() over (
        partition by game_date, home_team_key, away_team_key order by loaded_at desc, odds_event_id desc
    ) = 1

),

game_keys as (

    select
        game_date,
        home_team_key,
        away_team_key
    from bdl
    union distinct
    select
        game_date,
        home_team_key,
        away_team_key
    from espn
    union distinct
    select
        game_date,
        home_team_key,
        away_team_key
    from odds

),

joined as (

    select
        game_keys.game_date,
        game_keys.home_team_key,
        game_keys.away_team_key,
        bdl.bdl_game_id,
        espn.espn_event_id,
        odds.odds_event_id,
        bdl.tipoff_at as bdl_tipoff_at,
        espn.tipoff_at as espn_tipoff_at,
        odds.tipoff_at as odds_tipoff_at,
        bdl.bdl_game_date,
        bdl.is_final as bdl_is_final,
        espn.is_final as espn_is_final,
        bdl.home_score as bdl_home_score,
        bdl.away_score as bdl_away_score,
        espn.home_score as espn_home_score,
        espn.away_score as espn_away_score,
        bdl.loaded_at as bdl_loaded_at,
        espn.loaded_at as espn_loaded_at,
        odds.loaded_at as odds_loaded_at,
        coalesce(bdl.season, espn.season) as season,
        coalesce(bdl.is_postseason, false) as is_postseason
    from game_keys
    left outer join bdl
        on
            game_keys.game_date = bdl.game_date
            and game_keys.home_team_key = bdl.home_team_key
            and game_keys.away_team_key = bdl.away_team_key
    left outer join espn
        on
            game_keys.game_date = espn.game_date
            and game_keys.home_team_key = espn.home_team_key
            and game_keys.away_team_key = espn.away_team_key
    left outer join odds
        on
            game_keys.game_date = odds.game_date
            and game_keys.home_team_key = odds.home_team_key
            and game_keys.away_team_key = odds.away_team_key

),

-- the same pairing on neighbouring dates, each listed by a source the other lacks: two sources
-- disagree on the day (two real games on consecutive days are each listed by all of them)
near_duplicates as (

    select distinct
        this.game_date,
        this.home_team_key,
        this.away_team_key
    from joined as this
    inner join joined as other
        on
            this.home_team_key = other.home_team_key
            and this.away_team_key = other.away_team_key
            and this.game_date != other.game_date
            and abs({{ days_between('this.game_date', 'other.game_date') }}) <= 1
            and (
                (this.bdl_game_id is null) != (other.bdl_game_id is null)
                or (this.espn_event_id is null) != (other.espn_event_id is null)
                or (this.odds_event_id is null) != (other.odds_event_id is null)
            )

),

final as (

    select
        concat(
            replace(cast(joined.game_date as {{ dbt.type_string() }}), '-', ''),
            '_',
            joined.away_team_key,
            '_',
            joined.home_team_key
        ) as game_id,
        joined.game_date,
        joined.season,
        joined.home_team_key,
        joined.away_team_key,
        coalesce(joined.bdl_tipoff_at, joined.espn_tipoff_at, joined.odds_tipoff_at) as tipoff_at,
        joined.bdl_game_id,
        joined.espn_event_id,
        joined.odds_event_id,
        coalesce(joined.bdl_is_final, joined.espn_is_final, false) as is_final,
        case
            when coalesce(joined.bdl_is_final, joined.espn_is_final, false)
                then coalesce(joined.bdl_home_score, joined.espn_home_score)
        end as home_score,
        case
            when coalesce(joined.bdl_is_final, joined.espn_is_final, false)
                then coalesce(joined.bdl_away_score, joined.espn_away_score)
        end as away_score,
        joined.is_postseason,
        (case when joined.bdl_game_id is not null then 1 else 0 end)
        + (case when joined.espn_event_id is not null then 1 else 0 end)
        + (case when joined.odds_event_id is not null then 1 else 0 end) as n_sources,
        coalesce(
            joined.bdl_is_final and joined.espn_is_final
            and (
                joined.bdl_home_score != joined.espn_home_score
                or joined.bdl_away_score != joined.espn_away_score
            ),
            false
        ) as has_score_conflict,
        coalesce(joined.bdl_is_final != joined.espn_is_final, false) as has_status_conflict,
        -- a source dating the game on another day (balldontlie's own date, or tip-offs hours apart)
        near_duplicates.game_date is not null
        or coalesce(joined.bdl_game_date != joined.game_date, false)
        or coalesce(
            abs({{ seconds_between('joined.bdl_tipoff_at', 'joined.espn_tipoff_at') }}) > 3 * 3600, false
        )
        or coalesce(
            abs({{ seconds_between('joined.bdl_tipoff_at', 'joined.odds_tipoff_at') }}) > 3 * 3600, false
        )
            as has_date_conflict,
        -- the latest load among the rows the game is built from (UTC): a source that does not list
        -- the game counts as never loaded (BigQuery's greatest() is NULL when any argument is)
        greatest(
            coalesce(joined.bdl_loaded_at, {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }}),
            coalesce(joined.espn_loaded_at, {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }}),
            coalesce(joined.odds_loaded_at, {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }})
        ) as loaded_at
    from joined
    left outer join near_duplicates
        on
            joined.game_date = near_duplicates.game_date
            and joined.home_team_key = near_duplicates.home_team_key
            and joined.away_team_key = near_duplicates.away_team_key

)

select * from final
