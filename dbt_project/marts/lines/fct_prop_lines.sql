{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['odds_event_id', 'player_name_key', 'market', 'bookmaker_key', 'snapshot_at'],
        on_schema_change='fail',
    )
}}
-- One row per (event, player, market, bookmaker, snapshot): the book's line with both prices, their
-- implied probabilities, the overround and the no-vig over probability, and whether it is pre-game.
-- Incremental because it grows with every snapshot of the season: a run recomputes every event with
-- snapshots loaded since the last run (whatever its date), every event whose game (dim_games) now
-- reconciles otherwise, and every event quoting a name the crosswalk now maps otherwise.
with

staged_props as (

    select * from {{ ref('stg_odds_api__player_props') }}

),

crosswalk as (

    select * from {{ ref('int_player_crosswalk') }}

),

games as (

    select * from {{ ref('dim_games') }}

),

{% if is_incremental() %}
    -- the stored table is read where needed, not as one CTE: DuckDB materializes a CTE read twice,
    -- with every column
    -- events with snapshots loaded after the last run's newest
    loaded_events as (

        select distinct odds_event_id
        from {{ ref('stg_odds_api__player_props') }}
        where
            loaded_at > (
                select coalesce(max(stored.loaded_at), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }})
                from {{ this }} as stored
            )

    ),

    stored_events as (

        select distinct
            odds_event_id,
            game_id,
            game_date,
            home_team_key,
            away_team_key,
            tipoff_at
        from {{ this }}

    ),

    -- events whose game appeared, vanished or moved since they were computed
    regamed_events as (

        select stored_events.odds_event_id
        from stored_events
        left outer join games on stored_events.odds_event_id = games.odds_event_id
        where
            stored_events.game_id is distinct from games.game_id
            or (
                games.game_id is not null
                and (
                    stored_events.game_date is distinct from games.game_date
                    or stored_events.home_team_key is distinct from games.home_team_key
                    or stored_events.away_team_key is distinct from games.away_team_key
                    or stored_events.tipoff_at is distinct from games.tipoff_at
                )
            )

    ),

    -- names the crosswalk now maps to another player (or to one, or to none)
    renamed as (

        select stored_names.player_name
        from (select distinct player_name, player_id from {{ this }}) as stored_names
        left outer join crosswalk
            on
                stored_names.player_name = crosswalk.source_player_ref
                and crosswalk.source = 'odds_api'
        where stored_names.player_id is distinct from crosswalk.player_id

    ),

    renamed_events as (

        select distinct odds_event_id
        from {{ this }}
        where player_name in (select renamed.player_name from renamed)

    ),

    changed_events as (

        select loaded_events.odds_event_id from loaded_events
        union distinct
        select regamed_events.odds_event_id from regamed_events
        union distinct
        select renamed_events.odds_event_id from renamed_events

    ),
{% endif %}

props as (

    select * from staged_props
    {% if is_incremental() %}
        where odds_event_id in (select changed_events.odds_event_id from changed_events)
    {% endif %}

),

-- over and under side by side; outcomes arrive in no fixed order
paired as (

    select
        odds_event_id,
        player_name_key,
        market,
        bookmaker_key,
        snapshot_at,
        -- two spellings with one key in one book's snapshot would be one player: keep one spelling
        min(player_name) as player_name,
        max(commence_at) as commence_at,
        max(game_date) as game_date,
        max(home_team_key) as home_team_key,
        max(away_team_key) as away_team_key,
        max(case when side = 'over' then line end) as over_line,
        max(case when side = 'under' then line end) as under_line,
        max(case when side = 'over' then decimal_odds end) as over_decimal_odds,
        max(case when side = 'under' then decimal_odds end) as under_decimal_odds,
        max(case when side = 'over' then implied_probability end) as over_implied_probability,
        max(case when side = 'under' then implied_probability end) as under_implied_probability,
        -- bool_and is not portable: every side of the snapshot must be pre-game
        min(case when is_pre_game then 1 else 0 end) = 1 as is_pre_game_snapshot,
        max(loaded_at) as loaded_at
    from props
    group by odds_event_id, player_name_key, market, bookmaker_key, snapshot_at

),

-- both sides priced at the same line: only then can the vig be taken out
sided as (

    select
        *,
        coalesce(
            over_implied_probability is not null
            and under_implied_probability is not null
            and over_line = under_line,
            false
        ) as has_both_sides
    from paired

),

odds_crosswalk as (

    select
        source_player_ref,
        player_id
    from crosswalk
    where source = 'odds_api'

),

joined as (

    select
        sided.odds_event_id,
        games.game_id,
        sided.player_name,
        sided.player_name_key,
        odds_crosswalk.player_id,
        sided.market,
        sided.bookmaker_key,
        sided.snapshot_at,
        sided.over_decimal_odds,
        sided.under_decimal_odds,
        sided.over_implied_probability,
        sided.under_implied_probability,
        sided.has_both_sides,
        sided.loaded_at,
        coalesce(games.game_date, sided.game_date) as game_date,
        coalesce(games.home_team_key, sided.home_team_key) as home_team_key,
        coalesce(games.away_team_key, sided.away_team_key) as away_team_key,
        coalesce(games.tipoff_at, sided.commence_at) as tipoff_at,
        coalesce(sided.over_line, sided.under_line) as line,
        case
            when sided.has_both_sides then sided.over_implied_probability + sided.under_implied_probability
        end as overround,
        case
            when sided.has_both_sides
                then
                    sided.over_implied_probability
                    / (sided.over_implied_probability + sided.under_implied_probability)
        end as no_vig_over_probability,
        -- before this snapshot's commence_time and before the game's reconciled tip-off
        sided.is_pre_game_snapshot
        and sided.snapshot_at < coalesce(games.tipoff_at, sided.commence_at) as is_pre_game
    from sided
    left outer join games on sided.odds_event_id = games.odds_event_id
    left outer join odds_crosswalk on sided.player_name = odds_crosswalk.source_player_ref

),

final as (

    select
        odds_event_id,
        game_id,
        game_date,
        home_team_key,
        away_team_key,
        tipoff_at,
        player_name,
        player_name_key,
        player_id,
        market,
        bookmaker_key,
        snapshot_at,
        line,
        over_decimal_odds,
        under_decimal_odds,
        over_implied_probability,
        under_implied_probability,
        has_both_sides,
        overround,
        no_vig_over_probability,
        is_pre_game,
        loaded_at
    from joined

)

select * from final
