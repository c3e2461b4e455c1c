-- Every source id or name that matched no player in any of its games: the override seed
-- (seeds/player_name_overrides.csv) is how a person fixes one. Reported by name, never dropped.
with

matched as (

    select * from {{ ref('int_player_names_matched') }}

),

final as (

    select
        source,
        source_player_ref,
        max(player_name) as player_name,
        max(player_name_key) as player_name_key,
        count(*) as n_appearances,
        min(game_date) as first_game_date,
        max(game_date) as last_game_date
    from matched
    group by source, source_player_ref
    having count(player_id) = 0

)

select * from final
