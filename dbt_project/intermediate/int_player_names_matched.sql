-- (source, comment and the like are the house column names)
-- Every appearance of a player under another source's id or name, matched to a balldontlie player
-- of the same game (and team, where the source says it), set-based: exact name key first, then
-- the override seed, then the closest name above a threshold. One row per appearance.
{% set min_score = var('name_match_min_score', 0.8) %}

with

games as (

    select * from {{ ref('dim_games') }}

),

rosters as (

    select * from {{ ref('int_game_rosters') }}

),

espn_box as (

    select * from {{ ref('stg_espn__player_box_scores') }}

),

odds_props as (

    select * from {{ ref('stg_odds_api__player_props') }}

),

overrides as (

    select * from {{ ref('player_name_overrides') }}

),

appearances as (

    select distinct
        'espn' as source,
        espn_box.espn_player_id as source_player_ref,
        espn_box.player_name,
        espn_box.player_name_key,
        games.game_id,
        games.game_date,
        espn_box.team_key
    from espn_box
    inner join games on espn_box.espn_event_id = games.espn_event_id

    union all

    select distinct
        'odds_api' as source,
        odds_props.player_name as source_player_ref,
        odds_props.player_name,
        odds_props.player_name_key,
        games.game_id,
        games.game_date,
        -- the odds feed does not say which of the two teams a player is on
        cast(null as {{ dbt.type_string() }}) as team_key
    from odds_props
    inner join games on odds_props.odds_event_id = games.odds_event_id

),

pairs as (

    select
        appearances.source,
        appearances.source_player_ref,
        appearances.game_id,
        appearances.game_date,
        appearances.player_name_key,
        rosters.bdl_player_id,
        rosters.player_name_key as candidate_name_key,
        appearances.player_name_key = rosters.player_name_key as is_exact,
        overrides.canonical_name is not null as is_override
    from appearances
    inner join rosters
        on
            appearances.game_id = rosters.game_id
            and (appearances.team_key is null or appearances.team_key = rosters.team_key)
    left outer join overrides
        on
            appearances.source = overrides.source
            and appearances.player_name = overrides.source_name
            and rosters.player_name_key = overrides.canonical_name

),

-- the pairs an exact key or an override settles: few, and read twice (settled, scored), so
-- DuckDB materializes these rather than every pair (millions over three seasons)
settled_pairs as (

    select
        source,
        source_player_ref,
        game_id,
        game_date,
        bdl_player_id,
        is_exact,
        is_override
    from pairs
    where is_exact or is_override

),

-- an exact key or an override outranks every fuzzy score: only appearances with neither are
-- scored (the edit distances of every pair were most of this model's time)
settled as (

    select distinct
        source,
        source_player_ref,
        game_id
    from settled_pairs

),

unsettled as (

    select distinct
        appearances.source,
        appearances.source_player_ref,
        appearances.game_id,
        appearances.player_name_key
    from appearances
    left outer join settled
        on
            appearances.source = settled.source
            and appearances.source_player_ref = settled.source_player_ref
            and appearances.game_id = settled.game_id
    where settled.game_id is null

),

-- the appearance's name is taken from unsettled, not pairs: the scores then depend on the join,
-- and DuckDB cannot push the score filter below it onto every pair
candidates as (

    select
        appearances.source,
        appearances.source_player_ref,
        appearances.game_id,
        appearances.game_date,
        rosters.bdl_player_id,
        {{ regex_extract('unsettled.player_name_key', '^([^ ]+) ') }} as given_name,
        {{ regex_extract('unsettled.player_name_key', '^[^ ]+ (.+)$') }} as surname,
        {{ regex_extract('rosters.player_name_key', '^([^ ]+) ') }} as candidate_given_name,
        {{ regex_extract('rosters.player_name_key', '^[^ ]+ (.+)$') }} as candidate_surname,
        {{ name_similarity('unsettled.player_name_key', 'rosters.player_name_key') }} as similarity
    from unsettled
    inner join appearances
        on
            unsettled.source = appearances.source
            and unsettled.source_player_ref = appearances.source_player_ref
            and unsettled.game_id = appearances.game_id
            and unsettled.player_name_key = appearances.player_name_key
    inner join rosters
        on
            appearances.game_id = rosters.game_id
            and (appearances.team_key is null or appearances.team_key = rosters.team_key)

),

scored as (

    select
        source,
        source_player_ref,
        game_id,
        game_date,
        bdl_player_id,
        case when is_exact then 'exact_key' else 'override' end as match_method,
        1.0 as match_score
    from settled_pairs

    union all

    select
        source,
        source_player_ref,
        game_id,
        game_date,
        bdl_player_id,
        'fuzzy' as match_method,
        case
            -- the same surname, and one given name starts the other ("mo" / "mohamed")
            when
                surname = candidate_surname
                and (
                    substr(candidate_given_name, 1, length(given_name)) = given_name
                    or substr(given_name, 1, length(candidate_given_name)) = candidate_given_name
                )
                then greatest(similarity, 0.9)
            else similarity
        end as match_score
    from candidates

),

best as (

    select
        source,
        source_player_ref,
        game_id,
        game_date,
        bdl_player_id,
        match_method,
        match_score
    from scored
    where match_method != 'fuzzy' or match_score >= {{ min_score }}
    qualify row_number() over (
        partition by source, source_player_ref, game_id
        order by
            case match_method when 'exact_key' then 1 when 'override' then 2 else 3 end,
            match_score desc,
            bdl_player_id asc
    ) = 1

),

final as (

    select
        appearances.source,
        appearances.source_player_ref,
        appearances.player_name,
        appearances.player_name_key,
        appearances.game_id,
        appearances.game_date,
        best.bdl_player_id as player_id,
        best.match_score,
        coalesce(best.match_method, 'unmatched') as match_method
    from appearances
    left outer join best
        on
            appearances.source = best.source
            and appearances.source_player_ref = best.source_player_ref
            and appearances.game_id = best.game_id

)

select * from final
