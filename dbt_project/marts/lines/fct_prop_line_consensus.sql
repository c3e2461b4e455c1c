{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['odds_event_id', 'player_name_key', 'market'],
        on_schema_change='fail',
    )
}}
-- One row per (event, player, market): the books' consensus at three moments, all pre-game — the
-- opening (earliest snapshot), pick time (the last snapshot at or before the pick cut-off, never
-- after tip-off) and closing (the last snapshot before tip-off).
-- Incremental because it grows with every slate: a run recomputes every event one of whose
-- (player, market) rows would now read otherwise (a snapshot loaded since, a game or a player
-- resolved otherwise); the comparison is one aggregate of the lines, the consensus is per event.
{% set moments = ['open', 'pick', 'close'] %}

with

-- the lines are imported twice (all of them here, the changed events' below) rather than as one
-- shared CTE: DuckDB materializes a CTE read twice, with every column, and the comparison below
-- reads every row but few columns
all_lines as (

    select * from {{ ref('fct_prop_lines') }}

),

-- what each (event, player, market) row says apart from its consensus
all_players as (

    select
        odds_event_id,
        player_name_key,
        market,
        min(player_name) as player_name,
        max(player_id) as player_id,
        max(game_id) as game_id,
        max(game_date) as game_date,
        max(home_team_key) as home_team_key,
        max(away_team_key) as away_team_key,
        min(tipoff_at) as tipoff_at,
        max(loaded_at) as loaded_at
    from all_lines
    group by odds_event_id, player_name_key, market

),

{% if is_incremental() %}
    -- events with a row missing or reading otherwise in the stored table
    changed_events as (

        select distinct all_players.odds_event_id
        from all_players
        left outer join {{ this }} as stored
            on
                all_players.odds_event_id = stored.odds_event_id
                and all_players.player_name_key = stored.player_name_key
                and all_players.market = stored.market
        where
            stored.odds_event_id is null
            or all_players.player_name is distinct from stored.player_name
            or all_players.player_id is distinct from stored.player_id
            or all_players.game_id is distinct from stored.game_id
            or all_players.game_date is distinct from stored.game_date
            or all_players.home_team_key is distinct from stored.home_team_key
            or all_players.away_team_key is distinct from stored.away_team_key
            or all_players.tipoff_at is distinct from stored.tipoff_at
            or all_players.loaded_at is distinct from stored.loaded_at

    ),
{% endif %}

lines as (

    select * from {{ ref('fct_prop_lines') }}
    {% if is_incremental() %}
        where odds_event_id in (select changed_events.odds_event_id from changed_events)
    {% endif %}

),

players as (

    select * from all_players
    {% if is_incremental() %}
        where odds_event_id in (select changed_events.odds_event_id from changed_events)
    {% endif %}

),

event_times as (

    select
        odds_event_id,
        max(game_date) as game_date,
        min(tipoff_at) as tipoff_at
    from lines
    group by odds_event_id

),

-- pick time: the cut-off's wall-clock time on game day in the league's zone, or tip-off if earlier
pick_cutoffs as (

    select
        odds_event_id,
        least(
            {{ league_time_on('game_date', var('pick_cutoff_local_time', '12:00')) }},
            tipoff_at
        ) as pick_cutoff_at
    from event_times

),

pre_game as (

    select
        lines.odds_event_id,
        lines.player_name_key,
        lines.market,
        lines.bookmaker_key,
        lines.snapshot_at,
        lines.line,
        lines.has_both_sides,
        lines.no_vig_over_probability,
        pick_cutoffs.pick_cutoff_at
    from lines
    inner join pick_cutoffs on lines.odds_event_id = pick_cutoffs.odds_event_id
    where lines.is_pre_game and lines.line is not null

),

chosen_snapshots as (

    select
        odds_event_id,
        player_name_key,
        market,
        min(snapshot_at) as open_snapshot_at,
        max(case when snapshot_at <= pick_cutoff_at then snapshot_at end) as pick_snapshot_at,
        max(snapshot_at) as close_snapshot_at
    from pre_game
    group by odds_event_id, player_name_key, market

),

-- every book's line at each chosen snapshot, tagged with the moment it stands for
moment_lines as (

    {% for moment in moments %}
        select
            '{{ moment }}' as moment,
            pre_game.odds_event_id,
            pre_game.player_name_key,
            pre_game.market,
            pre_game.bookmaker_key,
            pre_game.snapshot_at,
            pre_game.line,
            pre_game.has_both_sides,
            pre_game.no_vig_over_probability
        from pre_game
        inner join chosen_snapshots
            on
                pre_game.odds_event_id = chosen_snapshots.odds_event_id
                and pre_game.player_name_key = chosen_snapshots.player_name_key
                and pre_game.market = chosen_snapshots.market
                and pre_game.snapshot_at = chosen_snapshots.{{ moment }}_snapshot_at
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by odds_event_id, player_name_key, market, moment order by line, bookmaker_key
        ) as line_rank,
        count(*) over (partition by odds_event_id, player_name_key, market, moment) as n_books
    from moment_lines

),

-- the median without percentile functions (an aggregate on DuckDB, analytic only on BigQuery):
-- the middle rank, or the mean of the two middle ranks
medians as (

    select
        odds_event_id,
        player_name_key,
        market,
        moment,
        avg(line) as consensus_line
    from ranked
    where 2 * line_rank between n_books and n_books + 2
    group by odds_event_id, player_name_key, market, moment

),

consensus as (

    select
        ranked.odds_event_id,
        ranked.player_name_key,
        ranked.market,
        ranked.moment,
        medians.consensus_line,
        max(ranked.snapshot_at) as snapshot_at,
        count(*) as n_books,
        sum(case when ranked.has_both_sides and ranked.line = medians.consensus_line then 1 else 0 end)
            as n_books_at_line,
        -- means of probabilities in whole 1e-12 units: a sum of floats depends on the order a
        -- parallel aggregate meets them, a sum of whole numbers does not, so a rebuild is identical
        avg(
            case
                when ranked.line = medians.consensus_line then round(ranked.no_vig_over_probability * 1e12)
            end
        ) / 1e12 as at_line_no_vig_over_probability,
        avg(round(ranked.no_vig_over_probability * 1e12)) / 1e12 as all_books_no_vig_over_probability
    from ranked
    inner join medians
        on
            ranked.odds_event_id = medians.odds_event_id
            and ranked.player_name_key = medians.player_name_key
            and ranked.market = medians.market
            and ranked.moment = medians.moment
    group by
        ranked.odds_event_id, ranked.player_name_key, ranked.market, ranked.moment, medians.consensus_line

),

final as (

    select
        players.odds_event_id,
        players.player_name_key,
        players.market,
        players.game_id,
        players.game_date,
        players.home_team_key,
        players.away_team_key,
        players.tipoff_at,
        pick_cutoffs.pick_cutoff_at,
        players.player_name,
        players.player_id,
        {% for moment in moments %}
            {{ moment }}_consensus.snapshot_at as {{ moment }}_snapshot_at,
            {{ moment }}_consensus.consensus_line as {{ moment }}_line,
            -- at the consensus line; where no book quotes it (the median falls between two lines), all books
            case
                when {{ moment }}_consensus.n_books_at_line > 0
                    then {{ moment }}_consensus.at_line_no_vig_over_probability
                else {{ moment }}_consensus.all_books_no_vig_over_probability
            end as {{ moment }}_no_vig_over_probability,
            {{ moment }}_consensus.n_books as {{ moment }}_n_books,
            {{ moment }}_consensus.n_books_at_line as {{ moment }}_n_books_at_line,
        {% endfor %}
        pick_consensus.consensus_line - open_consensus.consensus_line as pick_line_move,
        close_consensus.consensus_line - pick_consensus.consensus_line as close_line_move,
        players.loaded_at
    from players
    inner join pick_cutoffs on players.odds_event_id = pick_cutoffs.odds_event_id
    {% for moment in moments %}
        left outer join consensus as {{ moment }}_consensus
            on
                players.odds_event_id = {{ moment }}_consensus.odds_event_id
                and players.player_name_key = {{ moment }}_consensus.player_name_key
                and players.market = {{ moment }}_consensus.market
                and {{ moment }}_consensus.moment = '{{ moment }}'
    {% endfor %}

)

select * from final
