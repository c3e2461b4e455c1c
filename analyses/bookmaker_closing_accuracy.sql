-- Which book's closing line sits closest to what happened? Mean absolute error of each book's last
-- pre-game line against the result, per market, with how often the over won at that book's close.
with

lines as (

    select * from {{ ref('fct_prop_lines') }}

),

player_games as (

    select * from {{ ref('fct_player_games') }}

),

closing as (

    select
        game_id,
        player_id,
        market,
        bookmaker_key,
        line as closing_line,
        no_vig_over_probability
    from lines
    where is_pre_game and player_id is not null and has_both_sides
    qualify row_number() over (
        partition by game_id, player_id, market, bookmaker_key order by snapshot_at desc
    ) = 1

),

graded as (

    select
        closing.*,
        case closing.market
            when 'points' then player_games.points
            when 'rebounds' then player_games.rebounds
            when 'assists' then player_games.assists
            when 'threes' then player_games.threes_made
        end as actual
    from closing
    inner join player_games
        on closing.game_id = player_games.game_id and closing.player_id = player_games.player_id
    where not player_games.did_not_play

),

final as (

    select
        bookmaker_key,
        market,
        count(*) as lines_graded,
        round(avg(abs(actual - closing_line)), 3) as mean_absolute_error,
        round(avg(case when actual > closing_line then 1.0 else 0.0 end), 3) as over_rate,
        round(avg(no_vig_over_probability), 3) as mean_no_vig_over_probability
    from graded
    group by bookmaker_key, market

)

select * from final
order by market, mean_absolute_error
