-- (source, comment and the like are the house column names)
-- One row per (source, the source's id or name) -> one player_id (balldontlie's id), with how it
-- was matched: balldontlie's own ids by id; ESPN ids and Odds API names by the appearances
-- matched game by game, the most frequent player winning (conflicts counted, never hidden).
with

matched as (

    select * from {{ ref('int_player_names_matched') }}

),

players as (

    select * from {{ ref('stg_balldontlie__players') }}

),

stats as (

    select * from {{ ref('stg_balldontlie__stats') }}

),

-- balldontlie's players list and its box scores: a player can be in either first
bdl_people as (

    select
        bdl_player_id,
        player_name,
        player_name_key,
        0 as n_appearances,
        loaded_at
    from players
    union all
    select
        bdl_player_id,
        player_name,
        player_name_key,
        count(*) over (partition by bdl_player_id) as n_appearances,
        loaded_at
    from stats

),

bdl_ids as (

    select
        'balldontlie' as source,
        cast(bdl_player_id as {{ dbt.type_string() }}) as source_player_ref,
        player_name,
        player_name_key,
        bdl_player_id as player_id,
        'id' as match_method,
        1.0 as match_score,
        0 as n_conflicting,
        max(n_appearances) over (partition by bdl_player_id) as n_appearances
    from bdl_people
    qualify row_number() over (partition by bdl_player_id order by loaded_at desc, n_appearances asc) = 1

),

votes as (

    select
        source,
        source_player_ref,
        player_id,
        case min(case match_method when 'exact_key' then 1 when 'override' then 2 else 3 end)
            when 1 then 'exact_key'
            when 2 then 'override'
            else 'fuzzy'
        end as match_method,
        min(match_score) as match_score,
        count(*) as n_appearances,
        max(player_name) as player_name,
        max(player_name_key) as player_name_key
    from matched
    where player_id is not null
    group by source, source_player_ref, player_id

),

ranked as (

    select
        votes.*,
        count(*) over (partition by votes.source, votes.source_player_ref) - 1 as n_conflicting
    from votes
    qualify row_number() over (
        partition by votes.source, votes.source_player_ref
        order by votes.n_appearances desc, votes.match_score desc, votes.player_id asc
    ) = 1

),

final as (

    select
        source,
        source_player_ref,
        player_name,
        player_name_key,
        player_id,
        match_method,
        match_score,
        n_conflicting,
        n_appearances
    from ranked
    union all
    select
        source,
        source_player_ref,
        player_name,
        player_name_key,
        player_id,
        match_method,
        match_score,
        n_conflicting,
        n_appearances
    from bdl_ids

)

select * from final
