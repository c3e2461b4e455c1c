{#- The normalised name key every source's player names are matched on: lower case, no accents,
    no punctuation, no generational suffix, single spaces. "Çağrı Aydın", "Cagri Aydin" and
    "CAGRI AYDIN" share a key; so do "Bruce Brown Jr.", "Bruce Brown Jr" and "Bruce Brown" (the
    suffix goes in both directions), "G.G. Jackson" and "GG Jackson", "N'Diaye" and "NDiaye".
    Letters that are not a base letter plus an accent are spelt as the English-language feeds
    spell them (ı -> i, đ -> dj, ß -> ss, ø -> o, ł -> l). -#}
{% macro name_key(expr) -%}
    nullif(trim({{ regex_replace(
        regex_replace(
            regex_replace(
                regex_replace(
                    "lower(" ~ strip_accents(
                        "replace(replace(replace(replace(translate(" ~ expr ~ ", 'ıİøØłŁ', 'iIoOlL'), 'đ', 'dj'), 'Đ', 'Dj'), 'ß', 'ss'), 'æ', 'ae')"
                    ) ~ ")",
                    "[.\\x27’`]", ""),
                "[^a-z0-9]+", " "),
            " (jr|sr|ii|iii|iv|v)$", ""),
        "  +", " ") }}), '')
{%- endmacro %}
