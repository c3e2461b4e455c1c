-- One row per sportsbook seen in the odds feed (props or game lines); the seed adds display names.
-- A book the seed does not know is data, not an error: its title is the one sent, else its key.
with

props as (

    select * from {{ ref('stg_odds_api__player_props') }}

),

game_lines as (

    select * from {{ ref('stg_odds_api__game_lines') }}

),

bookmakers as (

    select * from {{ ref('bookmakers') }}

),

sightings as (

    select
        bookmaker_key,
        max(bookmaker_title) as sent_title,
        min(snapshot_at) as first_snapshot_at,
        max(snapshot_at) as last_snapshot_at,
        true as is_prop
    from props
    group by bookmaker_key

    union all

    select
        bookmaker_key,
        max(bookmaker_title) as sent_title,
        min(snapshot_at) as first_snapshot_at,
        max(snapshot_at) as last_snapshot_at,
        false as is_prop
    from game_lines
    group by bookmaker_key

),

seen as (

    select
        bookmaker_key,
        max(sent_title) as sent_title,
        min(first_snapshot_at) as first_snapshot_at,
        max(last_snapshot_at) as last_snapshot_at,
        max(case when is_prop then 1 else 0 end) = 1 as has_player_props,
        max(case when is_prop then 0 else 1 end) = 1 as has_game_lines
    from sightings
    group by bookmaker_key

),

joined as (

    select
        seen.bookmaker_key,
        bookmakers.region,
        seen.has_player_props,
        seen.has_game_lines,
        seen.first_snapshot_at,
        seen.last_snapshot_at,
        coalesce(bookmakers.bookmaker_title, seen.sent_title, seen.bookmaker_key) as bookmaker_title,
        bookmakers.bookmaker_key is not null as is_in_reference
    from seen
    left outer join bookmakers on seen.bookmaker_key = bookmakers.bookmaker_key

),

final as (

    select
        bookmaker_key,
        bookmaker_title,
        region,
        is_in_reference,
        has_player_props,
        has_game_lines,
        first_snapshot_at,
        last_snapshot_at
    from joined

)

select * from final
