-- One row per NBA franchise, with the code each upstream source uses for it.
with

team_codes as (

    select * from {{ ref('team_codes') }}

),

final as (

    select
        team_key,
        odds_api_name as odds_api_team_name,
        bdl_id as bdl_team_id,
        bdl_abbreviation,
        bdl_full_name as bdl_team_name,
        espn_id as espn_team_id,
        espn_abbreviation,
        conference,
        division,
        conference = 'West' as is_western_conference
    from team_codes

)

select * from final
