-- (scalar watermark subqueries; one-table steps)
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['player_id', 'game_id', 'market'],
        on_schema_change='fail',
        partition_by=({'field': 'game_date', 'data_type': 'date', 'granularity': 'month'}
                      if target.type == 'bigquery' else none),
        cluster_by=(['player_id', 'market'] if target.type == 'bigquery' else none),
    )
}}
-- The feature store: one row per (player, game, market) for every player with a line and every
-- rotation player of each slate, from what was known before pick time only. Incremental because
-- it grows with history: a run recomputes the newest date it holds, every later date, and every
-- date on or after the earliest game whose box score, lines, availability or own listing (a tip-off
-- or score corrected, alone or not) arrived since the last run: a stat correction moves every
-- feature computed from it.
{% set markets = {
    'points': 'points',
    'rebounds': 'rebounds',
    'assists': 'assists',
    'threes': 'threes_made',
} %}
{% set rotation_minutes = var('rotation_min_minutes', 12) %}

with

-- the four markets, one row each
markets as (

    {% for market in markets %}
        select '{{ market }}' as market{% if not loop.last %}
            union all{% endif %}
    {% endfor %}

),

games as (

    select * from {{ ref('dim_games') }}

),

rosters as (

    select * from {{ ref('int_game_rosters') }}

),

player_form as (

    select * from {{ ref('int_player_form') }}

),

team_form as (

    select * from {{ ref('int_team_form') }}

),

player_games as (

    select * from {{ ref('fct_player_games') }}

),

lines as (

    select * from {{ ref('fct_prop_line_consensus') }}

),

availability as (

    select * from {{ ref('fct_player_availability') }}

),

-- what this run has seen: every row it writes records it, and the next run starts from it
inputs as (

    select max(loaded_at) as inputs_loaded_at
    from (
        select max(loaded_at) as loaded_at from player_games
        union all
        select max(loaded_at) as loaded_at from lines
        union all
        select max(loaded_at) as loaded_at from availability
        union all
        select max(loaded_at) as loaded_at from games
    ) as loads

),

rebuild_window as (

    {% if is_incremental() %}
    select
        least(
            coalesce((select max(game_date) from {{ this }}), {{ dbt.cast("'1900-01-01'", 'date') }}),
            coalesce(
                (select min(game_date) from player_games where loaded_at > (select max(inputs_loaded_at) from {{ this }})),
                {{ dbt.cast("'9999-12-31'", 'date') }}
            ),
            coalesce(
                (select min(game_date) from lines where loaded_at > (select max(inputs_loaded_at) from {{ this }})),
                {{ dbt.cast("'9999-12-31'", 'date') }}
            ),
            coalesce(
                (select min(game_date) from availability where loaded_at > (select max(inputs_loaded_at) from {{ this }})),
                {{ dbt.cast("'9999-12-31'", 'date') }}
            ),
            coalesce(
                (select min(game_date) from games where loaded_at > (select max(inputs_loaded_at) from {{ this }})),
                {{ dbt.cast("'9999-12-31'", 'date') }}
            )
        ) as rebuild_from
    {% else %}
        select {{ dbt.cast("'1900-01-01'", 'date') }} as rebuild_from
    {% endif %}

),

slate as (

    select
        games.game_id,
        games.game_date,
        games.season,
        games.tipoff_at,
        games.home_team_key,
        games.away_team_key,
        -- pick time: the cut-off on game day, never after tip-off
        least(
            {{ league_time_on('games.game_date', var('pick_cutoff_local_time', '12:00')) }}, games.tipoff_at
        )
            as pick_at
    from games
    where games.game_date >= (select rebuild_window.rebuild_from from rebuild_window)

),

-- each candidate's last game played before pick time: his form as it stood
candidate_form as (

    select
        slate.game_id,
        rosters.bdl_player_id as player_id,
        rosters.team_key,
        player_form.game_id as form_game_id,
        player_form.game_date as last_game_date,
        player_form.minutes_played_avg_10
    from slate
    inner join rosters on slate.game_id = rosters.game_id
    left outer join player_form
        on rosters.bdl_player_id = player_form.player_id and slate.pick_at > player_form.tipoff_at
    qualify row_number() over (
        partition by slate.game_id, rosters.bdl_player_id order by player_form.tipoff_at desc
    ) = 1

),

-- the slate's consensus lines, one per player: two spellings of him in one event (two books
-- spelling him apart, or a new spelling an override maps to him) are two consensus rows, and the
-- one the most books quote at pick time stands
slate_lines as (

    select lines.*
    from lines
    inner join slate on lines.game_id = slate.game_id
    where lines.player_id is not null
    qualify row_number() over (
        partition by lines.game_id, lines.player_id, lines.market
        order by coalesce(lines.pick_n_books, 0) desc, lines.odds_event_id asc, lines.player_name_key asc
    ) = 1

),

with_lines as (

    select
        game_id,
        player_id,
        market
    from slate_lines
    where pick_line is not null

),

targets as (

    -- every player with a line
    select
        game_id,
        player_id,
        market
    from with_lines
    union distinct
    -- and every rotation player of the slate, line or not
    select
        candidate_form.game_id,
        candidate_form.player_id,
        markets.market
    from candidate_form
    cross join markets
    where candidate_form.minutes_played_avg_10 >= {{ rotation_minutes }}

),

-- the player's team and opponent in that game (box score, else current roster)
target_teams as (

    select
        targets.*,
        slate.game_date,
        slate.season,
        slate.tipoff_at,
        slate.pick_at,
        candidate_form.form_game_id,
        candidate_form.last_game_date,
        coalesce(candidate_form.team_key, 'UNK') as team_key,
        case
            when candidate_form.team_key = slate.home_team_key then slate.away_team_key
            else slate.home_team_key
        end as opponent_team_key,
        candidate_form.team_key = slate.home_team_key as is_home
    from targets
    inner join slate on targets.game_id = slate.game_id
    left outer join candidate_form
        on targets.game_id = candidate_form.game_id and targets.player_id = candidate_form.player_id

),

own_team_form as (

    select
        target_teams.game_id,
        target_teams.player_id,
        target_teams.market,
        team_form.pace_avg_10 as team_pace_avg_10,
        team_form.offensive_rating_avg_10 as team_offensive_rating_avg_10
    from target_teams
    inner join team_form
        on target_teams.team_key = team_form.team_key and target_teams.pick_at > team_form.tipoff_at
    qualify row_number() over (
        partition by target_teams.game_id, target_teams.player_id, target_teams.market
        order by team_form.tipoff_at desc
    ) = 1

),

opponent_form as (

    select
        target_teams.game_id,
        target_teams.player_id,
        target_teams.market,
        team_form.pace_avg_10 as opponent_pace_avg_10,
        team_form.defensive_rating_avg_10 as opponent_defensive_rating_avg_10,
        case target_teams.market
            when 'points' then team_form.points_against_avg_10
            when 'rebounds' then team_form.rebounds_against_avg_10
            when 'assists' then team_form.assists_against_avg_10
            when 'threes' then team_form.threes_against_avg_10
        end as opponent_allowed_avg_10
    from target_teams
    inner join team_form
        on target_teams.opponent_team_key = team_form.team_key and target_teams.pick_at > team_form.tipoff_at
    qualify row_number() over (
        partition by target_teams.game_id, target_teams.player_id, target_teams.market
        order by team_form.tipoff_at desc
    ) = 1

),

-- the status each player of the two teams had on the last report read at or before pick time
status_at_pick as (

    select
        availability.game_id,
        availability.player_id,
        availability.team_key,
        availability.injury_status as status
    from availability
    inner join slate on availability.game_id = slate.game_id
    where availability.is_pick_time_report and availability.player_id is not null

),

teammates_out as (

    select
        target_teams.game_id,
        target_teams.player_id,
        target_teams.market,
        count(*) as teammates_out,
        -- rounded: a sum of doubles in no fixed order differs in the last bits from run to run
        round(sum(coalesce(mate_form.minutes_played_avg_10, 0)), 6) as teammates_out_minutes_avg_10
    from target_teams
    inner join status_at_pick
        on
            target_teams.game_id = status_at_pick.game_id
            and target_teams.team_key = status_at_pick.team_key
            and target_teams.player_id != status_at_pick.player_id
            and status_at_pick.status = 'out'
    left outer join candidate_form as mate_form
        on status_at_pick.game_id = mate_form.game_id and status_at_pick.player_id = mate_form.player_id
    group by target_teams.game_id, target_teams.player_id, target_teams.market

),

assembled as (

    select
        target_teams.player_id,
        target_teams.game_id,
        target_teams.market,
        target_teams.game_date,
        target_teams.season,
        target_teams.tipoff_at,
        target_teams.pick_at as features_as_of,
        target_teams.team_key,
        target_teams.opponent_team_key,
        target_teams.is_home,
        {% for market, stat in markets.items() %}
        {%- if loop.first %}case target_teams.market{% endif %}
            when '{{ market }}' then player_form.{{ stat }}_avg_5
            {%- if loop.last %}
            end as stat_avg_5,{% endif %}
        {%- endfor %}
        {% for n in ['avg_10', 'avg_20', 'std_10', 'season_avg'] %}
            case target_teams.market
                {%- for market, stat in markets.items() %}
                    when '{{ market }}' then player_form.{{ stat }}_{{ n }}
                {%- endfor %}
            end as stat_{{ n }},
        {% endfor %}
        player_form.minutes_played_avg_5,
        player_form.minutes_played_avg_10,
        player_form.minutes_played_std_10,
        player_form.field_goals_attempted_avg_10,
        player_form.threes_attempted_avg_10,
        player_form.free_throws_attempted_avg_10,
        player_form.usage_proxy_avg_10,
        case when player_form.season = target_teams.season then player_form.season_games_played else 0 end
            as season_games_played,
        {{ days_between('target_teams.last_game_date', 'target_teams.game_date') }} as rest_days,
        coalesce({{ days_between('target_teams.last_game_date', 'target_teams.game_date') }} = 1, false)
            as is_back_to_back,
        own_team_form.team_pace_avg_10,
        own_team_form.team_offensive_rating_avg_10,
        opponent_form.opponent_pace_avg_10,
        opponent_form.opponent_defensive_rating_avg_10,
        opponent_form.opponent_allowed_avg_10,
        coalesce(teammates_out.teammates_out, 0) as teammates_out,
        coalesce(teammates_out.teammates_out_minutes_avg_10, 0) as teammates_out_minutes_avg_10,
        coalesce(own_status.status, 'active') as player_status,
        slate_lines.open_line,
        slate_lines.pick_line,
        slate_lines.pick_line - slate_lines.open_line as line_move,
        slate_lines.pick_no_vig_over_probability,
        slate_lines.pick_n_books,
        slate_lines.pick_snapshot_at
    from target_teams
    left outer join player_form
        on
            target_teams.form_game_id = player_form.game_id
            and target_teams.player_id = player_form.player_id
    left outer join own_team_form
        on
            target_teams.game_id = own_team_form.game_id
            and target_teams.player_id = own_team_form.player_id
            and target_teams.market = own_team_form.market
    left outer join opponent_form
        on
            target_teams.game_id = opponent_form.game_id
            and target_teams.player_id = opponent_form.player_id
            and target_teams.market = opponent_form.market
    left outer join teammates_out
        on
            target_teams.game_id = teammates_out.game_id
            and target_teams.player_id = teammates_out.player_id
            and target_teams.market = teammates_out.market
    left outer join status_at_pick as own_status
        on target_teams.game_id = own_status.game_id and target_teams.player_id = own_status.player_id
    left outer join slate_lines
        on
            target_teams.game_id = slate_lines.game_id
            and target_teams.player_id = slate_lines.player_id
            and target_teams.market = slate_lines.market

),

final as (

    select
        assembled.*,
        -- the share of the model's inputs that are present
        (
            {% set core = ['stat_avg_5', 'stat_avg_10', 'stat_avg_20', 'stat_std_10', 'stat_season_avg',
                           'minutes_played_avg_10', 'usage_proxy_avg_10', 'rest_days', 'team_pace_avg_10',
                           'opponent_pace_avg_10', 'opponent_allowed_avg_10', 'pick_line'] %}
            {%- for col in core %}
                (case when {{ col }} is not null then 1 else 0 end){% if not loop.last %} +{% endif %}
            {%- endfor %}
        ) / {{ core | length }}.0 as completeness,
        -- fresh: he played within the last 15 days and the pick-time line is under a day old
        coalesce(assembled.rest_days <= {{ var('feature_max_rest_days', 15) }}, false)
        and (
            assembled.pick_snapshot_at is null
            or {{ seconds_between('pick_snapshot_at', 'features_as_of') }} <= 86400
        ) as is_fresh,
        (select inputs.inputs_loaded_at from inputs) as inputs_loaded_at
    from assembled

)

select * from final
