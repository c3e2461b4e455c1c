{#- Minutes played as a number, from every format the sources have used: "38", "06", "00",
    "33:30" and "0:00" (minutes:seconds), "PT33M30.00S" (ISO 8601 duration), "" and NULL (no
    minutes: NULL, never 0, so a did-not-play row stays apart from a played zero). Anything else
    is NULL as well; the staging models keep the raw text beside it and flag what did not parse. -#}
{% macro minutes_played(expr) -%}
    case
        when {{ regex_matches(expr, '^ *[0-9]+([.][0-9]+)? *$') }}
            then cast(trim({{ expr }}) as {{ dbt.type_float() }})
        when {{ regex_matches(expr, '^ *[0-9]+:[0-5][0-9] *$') }}
            then cast({{ regex_extract(expr, '^ *([0-9]+):') }} as {{ dbt.type_float() }})
            + cast({{ regex_extract(expr, ':([0-9]+)') }} as {{ dbt.type_float() }}) / 60
        when {{ regex_matches(expr, '^PT([0-9]+M)?([0-9]+([.][0-9]+)?S)?$') }}
            then coalesce(cast({{ regex_extract(expr, '([0-9]+)M') }} as {{ dbt.type_float() }}), 0)
            + coalesce(cast({{ regex_extract(expr, '([0-9]+([.][0-9]+)?)S') }} as {{ dbt.type_float() }}), 0) / 60
    end
{%- endmacro %}

{#- The made (part = 1) or attempted (part = 2) count of an ESPN "made-attempted" pair ("7-15"). -#}
{% macro made_attempted(expr, part) -%}
    cast({{ regex_extract(expr, '^ *([0-9]+)-[0-9]+ *$' if part == 1 else '^ *[0-9]+-([0-9]+) *$') }} as {{ dbt.type_int() }})
{%- endmacro %}
