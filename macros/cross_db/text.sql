{#- Text helpers that differ between warehouses. -#}

{% macro regex_replace(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace', 'nba_props')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro bigquery__regex_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, r'{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{#- Letters without their accents ("Çağrı" -> "Cagrı"; the dotless i and other letters that are
    not a base letter plus a mark are left to the caller's translate). -#}
{% macro strip_accents(expr) -%}
    {{ return(adapter.dispatch('strip_accents', 'nba_props')(expr)) }}
{%- endmacro %}

{% macro default__strip_accents(expr) -%}
    strip_accents({{ expr }})
{%- endmacro %}

{% macro bigquery__strip_accents(expr) -%}
    regexp_replace(normalize({{ expr }}, nfd), r'\p{M}', '')
{%- endmacro %}

{#- Similarity of two strings in [0, 1]: one minus the edit distance over the longer length. -#}
{% macro name_similarity(a, b) -%}
    {{ return(adapter.dispatch('name_similarity', 'nba_props')(a, b)) }}
{%- endmacro %}

{% macro default__name_similarity(a, b) -%}
    (1.0 - cast(levenshtein({{ a }}, {{ b }}) as double) / greatest(length({{ a }}), length({{ b }}), 1))
{%- endmacro %}

{% macro bigquery__name_similarity(a, b) -%}
    (1.0 - edit_distance({{ a }}, {{ b }}) / greatest(length({{ a }}), length({{ b }}), 1))
{%- endmacro %}

{#- a / b, NULL when b is 0 or NULL. -#}
{% macro safe_divide(a, b) -%}
    {{ return(adapter.dispatch('safe_divide', 'nba_props')(a, b)) }}
{%- endmacro %}

{% macro default__safe_divide(a, b) -%}
    (cast({{ a }} as double) / nullif({{ b }}, 0))
{%- endmacro %}

{% macro bigquery__safe_divide(a, b) -%}
    safe_divide({{ a }}, {{ b }})
{%- endmacro %}

{#- Whether the pattern matches anywhere in expr. -#}
{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'nba_props')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro bigquery__regex_matches(expr, pattern) -%}
    regexp_contains({{ expr }}, r'{{ pattern }}')
{%- endmacro %}

{#- The first capture group of pattern in expr, NULL when it does not match. -#}
{% macro regex_extract(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_extract', 'nba_props')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_extract(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro bigquery__regex_extract(expr, pattern) -%}
    regexp_extract({{ expr }}, r'{{ pattern }}')
{%- endmacro %}
