"""Invented player names, spelt the way each source spells them.

The point of the sandbox's names is to exercise the crosswalk: ESPN keeps accents that
balldontlie and the Odds API strip, balldontlie and ESPN write "Jr." where the odds feed writes
"Jr", the odds feed uses a nickname for a few players ("Nic" for "Nicolas") or drops a "II",
initials are dotted in one source and not in another, and two team-mates share a surname (and
even an initial, so ESPN's short names collide). Every name here is invented; any likeness to a
real player's full name is accidental.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

FIRST_NAMES: tuple[str, ...] = (
    "Aaron", "Adrian", "Alec", "Andre", "Anthony", "Austin", "Bennett", "Blake", "Brandon",
    "Brendan", "Caleb", "Calvin", "Carter", "Chris", "Cole", "Collin", "Damon", "Daniel", "Darius",
    "David", "Dean", "Desmond", "Devin", "Dominic", "Donovan", "Dorian", "Drew", "Dylan", "Eli",
    "Elijah", "Emmett", "Eric", "Evan", "Felix", "Gavin", "Grant", "Harold", "Hunter", "Isaac",
    "Isaiah", "Ivan", "Jace", "Jackson", "Jalen", "Jamal", "Jared", "Jarrett", "Javon", "Jeremy",
    "Jerome", "Jonah", "Jordan", "Josiah", "Julian", "Justin", "Kai", "Keegan", "Keith", "Kellan",
    "Kendall", "Kevin", "Kobe", "Lamar", "Landon", "Lawrence", "Leon", "Liam", "Logan", "Lucas",
    "Malik", "Marcel", "Mason", "Maurice", "Micah", "Miles", "Nathan", "Neil", "Noah", "Omar",
    "Oscar", "Owen", "Parker", "Quentin", "Reggie", "Rico", "Riley", "Roman", "Russell", "Ryan",
    "Samuel", "Sean", "Simon", "Spencer", "Terrell", "Theo", "Tobias", "Trent", "Tristan",
    "Tyler", "Victor", "Wade", "Wesley", "Xavier", "Zach", "Zion",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Abernathy", "Acosta", "Alston", "Ambrose", "Archer", "Avery", "Baines", "Barlow", "Beasley",
    "Benton", "Blackwell", "Boone", "Bowen", "Bradshaw", "Brantley", "Brewer", "Buckner",
    "Burrell", "Calloway", "Carmichael", "Carver", "Chandler", "Cobb", "Colvin", "Conley",
    "Crenshaw", "Crowder", "Dawkins", "Dent", "Dixon", "Donnelly", "Dorsey", "Drayton", "Easley",
    "Ellison", "Epps", "Farrow", "Fenner", "Fletcher", "Ford", "Fulton", "Gaines", "Garland",
    "Gentry", "Gilmore", "Goodwin", "Grady", "Grimes", "Hadley", "Haley", "Hampton", "Harlan",
    "Hartley", "Hawkins", "Haynes", "Hendrix", "Hickman", "Hines", "Hollis", "Horton", "Hubbard",
    "Ingram", "Jarvis", "Jeffries", "Kearney", "Kendrick", "Kirkland", "Lacey", "Langley",
    "Larkin", "Lawson", "Ledford", "Linden", "Lockhart", "Mabry", "Malone", "Manning", "Marlow",
    "Mathis", "McAllister", "McBride", "McCray", "Merritt", "Monroe", "Morrow", "Nash", "Nixon",
    "Norwood", "Oakley", "Ogden", "Paxton", "Pearson", "Pendleton", "Pollard", "Prescott",
    "Quarles", "Ramsey", "Randle", "Redding", "Rhodes", "Riddle", "Rollins", "Royster",
    "Sanders", "Sawyer", "Sheppard", "Simmons", "Slater", "Spears", "Stallworth", "Stokes",
    "Strickland", "Sutton", "Tatum", "Thornton", "Tillman", "Townsend", "Trammell", "Upshaw",
    "Vance", "Vaughn", "Wakefield", "Walton", "Weathers", "Whitlock", "Wilder", "Winslow",
    "Womack", "Yates", "Yeager", "Youngblood",
)  # fmt: skip

# (ESPN first, ESPN last, country): accents kept by ESPN only.
_ACCENTED: tuple[tuple[str, str, str], ...] = (
    ("Matej", "Kovačević", "Croatia"),
    ("Théo", "Marchand", "France"),
    ("Dāvis", "Bērziņš", "Latvia"),
    ("Álvaro", "Giménez", "Spain"),
    ("Tomas", "Žukauskas", "Lithuania"),
    ("Bogdan", "Vujošević", "Serbia"),
    ("Moritz", "Schäfer", "Germany"),
    ("Emre", "Şahin", "Turkey"),
    ("Killian", "Lefèvre", "France"),
)
# Invented international names, combined at random: ESPN keeps the accents, the other two strip
# them. About a quarter of real NBA players were born abroad; accents and particles are where
# name matching breaks.
_INTERNATIONAL: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Serbia": (("Nikola", "Vasilije", "Stefan", "Miloš", "Dušan"),
               ("Jovanović", "Marković", "Petrović", "Savić", "Đorđević")),
    "France": (("Théo", "Mathis", "Rudy", "Sékou", "Élie"),
               ("Lefebvre", "Moreau", "Hérault", "Chevalier", "Bézier")),
    "Spain": (("Álvaro", "Sergio", "Íñigo", "Joaquín", "Dario"),
              ("Fernández", "Ramírez", "Núñez", "Castaño", "Ortega")),
    "Germany": (("Moritz", "Jörg", "Lukas", "Maximilian", "Tobias"),
                ("Müller", "Schröter", "Köhler", "Weiß", "Brandl")),
    "Turkey": (("Emre", "Çağrı", "Alperen", "Ömer", "Burak"),
               ("Yıldız", "Öztürk", "Çelik", "Aydın", "Koç")),
    "Lithuania": (("Jonas", "Žygimantas", "Mantas", "Rokas", "Tadas"),
                  ("Kazlauskas", "Šimkus", "Petrauskas", "Valančius", "Žukas")),
    "Slovenia": (("Luka", "Žiga", "Klemen", "Matej", "Gregor"),
                 ("Novak", "Horvat", "Krajnc", "Zupančič", "Vidmar")),
    "Latvia": (("Dāvis", "Kristaps", "Rolands", "Artūrs", "Mārtiņš"),
               ("Ozoliņš", "Kalniņš", "Bērziņš", "Liepiņš", "Krūmiņš")),
    "Greece": (("Giannis", "Kostas", "Nikos", "Thanasis", "Giorgos"),
               ("Papadopoulos", "Antonopoulos", "Karagiannis", "Nikolaidis", "Georgiou")),
    "Australia": (("Josh", "Dyson", "Jock", "Matisse", "Liam"),
                  ("Whitmore", "Kelleher", "Brodie", "Fairweather", "McKinnon")),
    "Canada": (("Shai", "Andrew", "Dillon", "Bennedict", "Olivier"),
               ("Tremblay", "Gagnon", "Bouchard", "Lavoie", "Côté")),
    "Nigeria": (("Precious", "Chima", "Ike", "Josh", "Udoka"),
                ("Okafor", "Adebayo", "Nwosu", "Eze", "Okonkwo")),
    "Cameroon": (("Joel", "Pascal", "Christian", "Yves", "Ulrich"),
                 ("Mbappé", "Nkoulou", "Ekambi", "Tchamba", "Essomba")),
    "Croatia": (("Dario", "Ivica", "Mario", "Ante", "Bojan"),
                ("Šarić", "Zubac", "Hezonja", "Babić", "Kovač")),
    "Brazil": (("Bruno", "Raul", "Gui", "Lucas", "Cristiano"),
               ("Caboclo", "Simões", "Araújo", "Conceição", "Gonçalves")),
    "Japan": (("Yuta", "Rui", "Kenta", "Haruki", "Sho"),
              ("Takahashi", "Watanabe", "Kobayashi", "Yamamoto", "Nakamura")),
}  # fmt: skip
# Particles: ESPN writes them lower-case ("Tiago da Costa"), the other two capitalise them.
_PARTICLES: tuple[tuple[str, str, str], ...] = (
    ("Tiago", "da Costa", "Portugal"),
    ("Jelle", "van der Berg", "Netherlands"),
    ("Luc", "de Vries", "Netherlands"),
    ("Mateus", "dos Santos", "Brazil"),
    ("Pieter", "van Dijk", "Belgium"),
    ("Hugo", "de la Cruz", "Dominican Republic"),
    ("Amadou", "N'Diaye", "Senegal"),
    ("Sidy", "Ba", "Senegal"),
)
INTERNATIONAL_SHARE = 0.22  # of the players not drawn from the quirk lists above
# "Jr." in balldontlie and ESPN, "Jr" in the odds feed.
_JUNIORS: tuple[tuple[str, str], ...] = (
    ("Marcus", "Whitfield"),
    ("Derrick", "Lowery"),
    ("Tyrese", "Holloman"),
    ("Kendrick", "Bassett"),
    ("Andre", "Pruitt"),
)
# Roman-numeral suffixes; the odds feed drops "II" for the last one.
_NUMERALS: tuple[tuple[str, str, str, bool], ...] = (
    ("Trevon", "Dalton", "III", True),
    ("Jamal", "Ashford", "III", True),
    ("Corey", "Maddox", "II", False),
)
# (given name everywhere else, the odds feed's nickname, last name)
_NICKNAMES: tuple[tuple[str, str, str], ...] = (
    ("Nicolas", "Nic", "Brandt"),
    ("Cameron", "Cam", "Oduya"),
    ("Alexander", "Alex", "Sorensen"),
    ("Herbert", "Herb", "Lyles"),
    ("Mohamed", "Mo", "Kamara"),
)
# (balldontlie first, ESPN first, odds first, last): dotted initials in some sources only.
_INITIALS: tuple[tuple[str, str, str, str], ...] = (
    ("GG", "GG", "G.G.", "Whitaker"),
    ("AJ", "A.J.", "AJ", "Fenwick"),
)
# Team-mates sharing a surname; the first pair also shares an initial ("J. Moody" twice).
_SHARED_SURNAMES: tuple[tuple[tuple[str, str], tuple[str, str]], ...] = (
    (("Jalen", "Moody"), ("Jaylin", "Moody")),
    (("Isaiah", "Cole"), ("Terrence", "Cole")),
)


# Letters NFKD does not decompose, spelt as the English-language feeds spell them.
_NO_DECOMPOSITION = str.maketrans({"ı": "i", "İ": "I", "đ": "dj", "Đ": "Dj", "ø": "o", "ß": "ss"})


def strip_accents(text: str) -> str:
    """Drop diacritics the way balldontlie and the Odds API do ("Dončić" -> "Doncic")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class PlayerName:
    """One player's name in each source's spelling, plus which quirk it exercises."""

    bdl_first_name: str
    bdl_last_name: str
    espn_first_name: str
    espn_last_name: str
    odds_name: str
    quirk: str
    country: str = "USA"

    @property
    def espn_display_name(self) -> str:
        return f"{self.espn_first_name} {self.espn_last_name}"

    @property
    def espn_short_name(self) -> str:
        return f"{self.espn_first_name[0]}. {self.espn_last_name}"


def _special_names() -> list[tuple[PlayerName, ...]]:
    """Every quirky name, grouped: a group of two must land on the same team."""
    groups: list[tuple[PlayerName, ...]] = []
    for first, last, country in _ACCENTED:
        plain_first, plain_last = strip_accents(first), strip_accents(last)
        name = PlayerName(
            plain_first, plain_last, first, last, f"{plain_first} {plain_last}", "accent", country
        )
        groups.append((name,))
    for first, last in _JUNIORS:
        groups.append(
            (PlayerName(first, f"{last} Jr.", first, f"{last} Jr.", f"{first} {last} Jr", "jr"),)
        )
    for first, last, country in _PARTICLES:
        # "de la Cruz" -> "De La Cruz"; the apostrophe name is spelt the same everywhere.
        upper = " ".join(w[:1].upper() + w[1:] for w in last.split(" "))
        quirk = "particle" if upper != last else "apostrophe"
        groups.append((PlayerName(first, upper, first, last, f"{first} {upper}", quirk, country),))
    for first, last, numeral, odds_keeps in _NUMERALS:
        odds = f"{first} {last} {numeral}" if odds_keeps else f"{first} {last}"
        full_last = f"{last} {numeral}"
        groups.append((PlayerName(first, full_last, first, full_last, odds, "numeral"),))
    for given, nick, last in _NICKNAMES:
        groups.append((PlayerName(given, last, given, last, f"{nick} {last}", "nickname"),))
    for bdl_first, espn_first, odds_first, last in _INITIALS:
        groups.append(
            (PlayerName(bdl_first, last, espn_first, last, f"{odds_first} {last}", "initials"),)
        )
    for pair in _SHARED_SURNAMES:
        groups.append(
            tuple(
                PlayerName(first, last, first, last, f"{first} {last}", "shared_surname")
                for first, last in pair
            )
        )
    return groups


def league_names(rng: np.random.Generator, n_teams: int, per_team: int) -> list[list[PlayerName]]:
    """Return `n_teams` rosters of `per_team` names; quirky names are spread over the teams.

    Full names are unique in the league and surnames unique within a team, except for the
    deliberate shared-surname pairs.
    """
    rosters: list[list[PlayerName]] = [[] for _ in range(n_teams)]
    groups = _special_names()
    order = rng.permutation(len(groups))
    team_cycle = rng.permutation(n_teams)
    used_full: set[str] = set()
    surnames: list[set[str]] = [set() for _ in range(n_teams)]
    slot = 0
    for gi in order:
        group = groups[int(gi)]
        # Walk the shuffled teams so no team collects two quirky groups before all have one.
        while len(rosters[int(team_cycle[slot % n_teams])]) + len(group) > per_team:
            slot += 1
        team = int(team_cycle[slot % n_teams])
        slot += 1
        for name in group:
            rosters[team].append(name)
            used_full.add(f"{name.bdl_first_name} {name.bdl_last_name}")
            surnames[team].add(name.bdl_last_name.split(" ")[0])
    countries = sorted(_INTERNATIONAL)
    for team in range(n_teams):
        while len(rosters[team]) < per_team:
            if rng.random() < INTERNATIONAL_SHARE:
                country = countries[int(rng.integers(len(countries)))]
                firsts, lasts = _INTERNATIONAL[country]
                first = firsts[int(rng.integers(len(firsts)))]
                last = lasts[int(rng.integers(len(lasts)))]
            else:
                country = "USA"
                first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
                last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
            plain_first, plain_last = strip_accents(first), strip_accents(last)
            full = f"{plain_first} {plain_last}"
            if full in used_full or plain_last in surnames[team]:
                continue
            used_full.add(full)
            surnames[team].add(plain_last)
            quirk = "accent" if (plain_first, plain_last) != (first, last) else ""
            rosters[team].append(
                PlayerName(plain_first, plain_last, first, last, full, quirk, country)
            )
    return rosters
