"""Sportsbook lines: player props and game lines, per book, over several snapshots a game.

A book's estimate at a snapshot is built from what was public then, as a real book's is:

- the availability news released so far (each absence is news at a random time before
  tip-off; until it lands the absentee is expected to play and his team-mates get their usual
  shares; when it lands his lines are pulled and his team-mates' lines jump);
- the player's form from the box scores so far (season and last-ten per-minute rates shrunk
  toward his preseason projection), weighed less and less against the sharper market
  information that arrives towards tip-off (the simulator's own expectation of the game);
- a random walk (a Brownian bridge) from an opening error to a small closing error, so moves
  between news are noise that ends at the close, with no momentum;
- a small error of each book's own, so closing lines mostly agree within half a point.

The line sits at the median of a count distribution fitted to each market (a negative binomial
whose variance is a multiple of the mean: points are skewed, threes nearly Poisson), and the
price is that distribution's over/under probability plus the book's margin: at the close over
and under are fair up to the vig. A few games also get a snapshot after tip-off, whose lines are
in-game lines (a real quirk of the historical odds feed).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from sandbox.simulate import norm_cdf

BOOKMAKERS: tuple[tuple[str, str], ...] = (
    ("draftkings", "DraftKings"),
    ("fanduel", "FanDuel"),
    ("betmgm", "BetMGM"),
    ("williamhill_us", "Caesars"),
    ("betrivers", "BetRivers"),
    ("fanatics", "Fanatics"),
    ("espnbet", "ESPN BET"),
)
# Per-book margin (overround) and how often it posts each player market (points, rebounds,
# assists, threes): the newer books post fewer markets than the big ones.
_MARGIN = np.array([0.048, 0.045, 0.05, 0.052, 0.055, 0.05, 0.052])
_COVERAGE = np.array(
    [
        [0.97, 0.97, 0.97, 0.97],
        [0.96, 0.96, 0.96, 0.96],
        [0.9, 0.9, 0.9, 0.9],
        [0.88, 0.88, 0.88, 0.88],
        [0.8, 0.8, 0.8, 0.8],
        [0.7, 0.6, 0.0, 0.0],
        [0.75, 0.7, 0.7, 0.0],
    ]
)
MARKETS: tuple[str, ...] = ("player_points", "player_rebounds", "player_assists", "player_threes")
TRUTH_COLUMNS = ("exp_pts", "exp_reb", "exp_ast", "exp_fg3m")
_TRUTH_COL = TRUTH_COLUMNS
_BOX_COL = ("pts", "reb", "ast", "fg3m")
# Variance over mean of each market's count distribution, fitted as a book fits it from past
# seasons: by the likelihood of the over/under outcomes at posted closing lines (seeds 5-9, none of
# the seeds the report is judged on). That is what the price must get right, and it is not the
# measured variance: points come in twos and threes (measured 2.5 x the mean, priced best at 1.9),
# and the rebound, assist and three counts are tighter near their medians than their tails say
# (threes priced at the measured 1.15 gave always-over -2% and always-under -8%).
DISPERSION = np.array([1.9, 1.07, 1.04, 1.02])
_OPEN_ERR, _CLOSE_ERR = 0.15, 0.04  # consensus error, as a share of the outcome's sd
_BRIDGE = 0.12  # sd of the random walk between open and close, same unit
_BOOK_ERR = 0.015  # each book's own error, same unit
# Weight of the public form estimate against the sharp one, at the open and at the close.
_PUBLIC_OPEN, _PUBLIC_CLOSE = 0.4, 0.05
_PRIOR_MINUTES = 400.0  # shrinkage of a season's per-minute rate toward the projection
_PROJECTION_SD = 0.08  # a preseason projection's error (log scale)
# Last season's league rates per minute (points, rebounds, assists, threes): the projection of a
# player the books know nothing about.
_LEAGUE_RATE = np.array([0.47, 0.18, 0.1, 0.053])
_RECENT_GAMES, _RECENT_WEIGHT, _RECENT_PRIOR = 10, 0.3, 150.0
# The books' calibration of the sharp points expectation, fitted on the same past seasons: actual
# minus expected runs linear in the expectation, about +0.1 for a 3-point reserve and -0.3 for a
# 30-point star (blowouts sit starters and hand their minutes to the bench).
_SCORER_SLOPE, _SCORER_PIVOT = -0.0145, 9.7
MIN_PROP_MINUTES = 15.0
_LIVE_SHARE = 0.05
_MARGIN_SD = 14.0  # sd of the final margin around its expectation in this simulator
_TOTAL_SD = 17.0
# Expected points beyond the teams' regulation expectations: overtime (about 6% of games, ten
# points a side) and the late free throws of close games; books price them into the total,
# and post it at the median, which that right tail keeps a little below the mean.
_TOTAL_EXTRA = 1.2
_TOTAL_SKEW = 0.2
_GRID_STEP, _GRID_MAX, _K_MAX = 0.02, 70.0, 140


def _price(prob: np.ndarray, margin: np.ndarray, lo: float = 0.2) -> np.ndarray:
    """Decimal price for a win probability once the book's margin is added."""
    implied = np.minimum(np.clip(prob, lo, 1 - lo) * (1 + margin), 0.98)
    return np.round(1.0 / implied, 2)


def bookmakers_frame() -> pd.DataFrame:
    """The books posting lines, keyed as the Odds API keys them."""
    return pd.DataFrame(BOOKMAKERS, columns=["bookmaker_key", "title"])


@functools.cache
def _cdf_table(dispersion: float) -> np.ndarray:
    """P(X <= k) for a negative binomial with variance `dispersion` x mean, on a grid of means."""
    mu = np.arange(0, _GRID_MAX + _GRID_STEP, _GRID_STEP)
    d = max(dispersion, 1.0001)
    r = mu / (d - 1)
    q = (d - 1) / d
    pmf = np.empty((len(mu), _K_MAX + 1))
    pmf[:, 0] = (1 / d) ** r
    for k in range(_K_MAX):
        pmf[:, k + 1] = pmf[:, k] * (k + r) / (k + 1) * q
    return np.minimum(np.cumsum(pmf, axis=1), 1.0)


@functools.cache
def _line_table(dispersion: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per grid mean: the distribution's median, the x.5 line nearest it, and P(over) there.

    Looked up per quote instead of computed per quote: a season has millions of quotes and
    only a few thousand distinct grid means.
    """
    table = _cdf_table(dispersion)
    rows = np.arange(len(table))
    median = np.argmax(table >= 0.5, axis=1)
    # Over at median - 0.5 wins with P(X >= median), at median + 0.5 with P(X > median).
    over_low = 1 - np.where(median > 0, table[rows, np.maximum(median - 1, 0)], 0.0)
    over_high = 1 - table[rows, median]
    low = (np.abs(over_low - 0.5) < np.abs(over_high - 0.5)) & (median > 0)
    point = np.where(low, median - 0.5, median + 0.5)
    return median.astype(float), point, np.where(low, over_low, over_high)


def _grid_index(mean: np.ndarray) -> np.ndarray:
    """Row of the tables for each mean (nearest grid point, clipped to the grid)."""
    top = len(_cdf_table(float(DISPERSION[0]))) - 1
    return np.clip(np.rint(mean / _GRID_STEP).astype(int), 0, top)


def sharp_mean(exp: np.ndarray, market: np.ndarray) -> np.ndarray:
    """The simulator's expectation as the books calibrate it (points: the scorer slope)."""
    exp = np.asarray(exp, dtype=float)
    return exp + (np.asarray(market) == 0) * _SCORER_SLOPE * (exp - _SCORER_PIVOT)


def median_of(mean: np.ndarray, market: np.ndarray) -> np.ndarray:
    """The median (an integer) of each market's count distribution around `mean`."""
    mean = np.asarray(mean, dtype=float)
    market = np.asarray(market)
    out = np.zeros(len(mean))
    for m in range(len(MARKETS)):
        rows = np.flatnonzero(market == m)
        out[rows] = _line_table(float(DISPERSION[m]))[0][_grid_index(mean[rows])]
    return out


def line_and_over(est: np.ndarray, market: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The x.5 line nearest the median of each estimate's distribution, and P(over) at it."""
    point = np.zeros(len(est))
    p_over = np.zeros(len(est))
    for m in range(len(MARKETS)):
        rows = np.flatnonzero(market == m)
        _, line, over = _line_table(float(DISPERSION[m]))
        at = _grid_index(est[rows])
        point[rows] = line[at]
        p_over[rows] = over[at]
    return point, p_over


def snapshots(rng: np.random.Generator, games: pd.DataFrame) -> pd.DataFrame:
    """Snapshot times per game: 4 to 8 before tip-off, and one in-game for a few games."""
    n_games = len(games)
    n_pre = rng.integers(4, 9, n_games)
    live = rng.random(n_games) < _LIVE_SHARE
    total = n_pre + live
    g = np.repeat(np.arange(n_games), total)
    first = np.concatenate([[0], np.cumsum(total)[:-1]])
    idx = np.arange(len(g)) - first[g]
    tip = pd.DatetimeIndex(games["tipoff_at"]).as_unit("s").asi8
    open_lead = rng.uniform(24, 30, n_games) * 3600
    close_lead = rng.uniform(3, 8, n_games) * 60
    # Fractions of the way from open to close; interior points drawn, then sorted.
    # Interior points come from a grid of 999, without replacement within a game: free draws
    # sometimes landed in the same second as each other or as the close, giving one game two
    # snapshots with one timestamp (duplicate quotes). On the grid they are seconds apart.
    u = np.zeros(len(g))
    grid = np.arange(1, 1000) / 1000.0
    for game in range(n_games):
        inner = first[game] + 1 + np.arange(n_pre[game] - 2)
        u[inner] = np.sort(rng.choice(grid, n_pre[game] - 2, replace=False))
    u[idx == n_pre[g] - 1] = 1.0
    is_live = idx >= n_pre[g]
    u[is_live] = 1.0
    frame = pd.DataFrame({"g": g, "u": u, "live": is_live})
    frame = frame.sort_values(["g", "live", "u"], kind="stable").reset_index(drop=True)
    frac = 1 - (1 - frame["u"].to_numpy()) ** 1.5  # denser towards tip-off
    gg = frame["g"].to_numpy()
    at = tip[gg] - open_lead[gg] + frac * (open_lead[gg] - close_lead[gg])
    live_at = tip[gg] + rng.uniform(10, 50, len(gg)) * 60
    at = np.where(frame["live"].to_numpy(), live_at, at)
    frame["snapshot_at"] = pd.to_datetime(np.rint(at).astype(np.int64), unit="s", utc=True)
    frame["frac"] = frac
    frame["snap"] = np.arange(len(frame)) - np.concatenate([[0], np.cumsum(total)[:-1]])[gg]
    return frame[["g", "snap", "snapshot_at", "frac", "live"]]


def _released_count(snaps: pd.DataFrame, games: pd.DataFrame, news: pd.DataFrame) -> np.ndarray:
    """Per snapshot: how many items of its game's news were released by then (in-game: all)."""
    g_news = pd.Index(games["game_key"].to_numpy()).get_indexer(news["game_key"].to_numpy())
    released = news["released_at"].dt.as_unit("s").astype("int64").to_numpy()
    big = np.int64(10**11)
    composite = np.sort(g_news.astype(np.int64) * big + released)
    g = snaps["g"].to_numpy().astype(np.int64)
    at = snaps["snapshot_at"].dt.as_unit("s").astype("int64").to_numpy()
    first = np.searchsorted(composite, g * big)
    done = np.searchsorted(composite, g * big + at, side="right") - first
    total = np.bincount(g_news, minlength=len(games))[g]
    return np.where(snaps["live"].to_numpy(), total, done)


def preseason_rates(rng: np.random.Generator, before_news: pd.DataFrame) -> pd.DataFrame:
    """Each player's per-minute rate per market as the books hold it before the season.

    A real book starts from last season's numbers and its projections, not from the league
    average: a star is priced as a star from opening night. The sandbox has no last season, so
    the projection is the player's expected rate in his first game as expected before that
    game's news (`before_news`: the stage-0 rows; his talent, his team, his form then), blurred
    by a season's change in role and age. Players without such a game fall back to last
    season's league rate.
    """
    first = before_news.loc[before_news["available"] & (before_news["exp_minutes"] >= 5.0)]
    first = first.drop_duplicates("player_key").set_index("player_key")
    players = np.unique(before_news["player_key"].to_numpy())
    blur = np.exp(rng.normal(0, _PROJECTION_SD, (len(players), len(_TRUTH_COL))))
    rates = np.tile(_LEAGUE_RATE, (len(players), 1))
    have = pd.Index(players).get_indexer(first.index)
    minutes = first["exp_minutes"].to_numpy()[:, None]
    rates[have] = first[list(_TRUTH_COL)].to_numpy() / minutes
    return pd.DataFrame(rates * blur, index=pd.Index(players, name="player_key"))


def public_rates(
    box: pd.DataFrame, games: pd.DataFrame, prior: pd.DataFrame, lag: int = 1
) -> pd.DataFrame:
    """Per player-game: each market's per-minute rate from his box scores `lag` games back and
    earlier, and when the latest of those ended (`known_at`).

    The season's rate and the last ten games' rate are each shrunk toward the player's
    preseason projection (`prior`, from `preseason_rates`: a few games say little), then
    blended. Lag 2 is what a book knows at the open of the second night of a back-to-back,
    before the first night is over.
    """
    frame = box[["game_key", "player_key", "seconds_played", *_BOX_COL]].merge(
        games[["game_key", "tipoff_at", "final_at"]], on="game_key"
    )
    frame = frame.sort_values(["player_key", "tipoff_at"], kind="stable").reset_index(drop=True)
    minutes = frame["seconds_played"].to_numpy() / 60.0
    projected = prior.reindex(frame["player_key"].to_numpy()).to_numpy()
    grp = frame.groupby("player_key", sort=False)
    played = (minutes > 0).astype(float)
    out = frame[["game_key", "player_key"]].copy()
    out["known_at"] = grp["final_at"].shift(lag)
    cum_min = grp["seconds_played"].cumsum().groupby(frame["player_key"]).shift(lag)
    cum_min = cum_min.fillna(0).to_numpy() / 60.0
    # Last ten games played: rolling sums over played rows, shifted to exclude this game.
    frame["_m"] = minutes
    frame["_n"] = played
    roll_cols = ["_m", *_BOX_COL]
    played_rows = frame.loc[played > 0]
    rolled = (
        played_rows.groupby("player_key", sort=False)[roll_cols]
        .rolling(_RECENT_GAMES, min_periods=1)
        .sum()
        .reset_index(level=0, drop=True)
    )
    recent = rolled.reindex(frame.index)
    recent = recent.groupby(frame["player_key"]).shift(lag).groupby(frame["player_key"]).ffill()
    recent = recent.fillna(0.0)
    for m, col in enumerate(_BOX_COL):
        cum = grp[col].cumsum().groupby(frame["player_key"]).shift(lag).fillna(0).to_numpy()
        season = (cum + _PRIOR_MINUTES * projected[:, m]) / (cum_min + _PRIOR_MINUTES)
        last = (recent[col].to_numpy() + _RECENT_PRIOR * projected[:, m]) / (
            recent["_m"].to_numpy() + _RECENT_PRIOR
        )
        out[f"rate_{m}"] = (1 - _RECENT_WEIGHT) * season + _RECENT_WEIGHT * last
    return out


def _bridge(
    rng: np.random.Generator, fracs: np.ndarray, start: np.ndarray, end: np.ndarray, sd: float
) -> np.ndarray:
    """A Brownian bridge from `start` (frac 0) to `end` (frac 1) at each row's snapshot fracs.

    `fracs` is (rows, snapshots), increasing along a row (padded with 1.0); its increments
    are uncorrelated noise around a straight line, so a first move says nothing of the next.
    """
    out = np.empty(fracs.shape)
    x = start.copy()
    f_prev = np.zeros(len(start))
    noise = rng.normal(0, 1, fracs.shape)
    for k in range(fracs.shape[1]):
        f = fracs[:, k]
        left = np.maximum(1 - f_prev, 1e-9)
        step = (f - f_prev) / left
        var = sd**2 * np.maximum((f - f_prev) * (1 - f), 0.0) / left
        x = x + (end - x) * step + np.sqrt(var) * noise[:, k]
        out[:, k] = x
        f_prev = f
    return out


def player_props(
    rng: np.random.Generator,
    games: pd.DataFrame,
    truth: pd.DataFrame,
    stages: pd.DataFrame,
    news: pd.DataFrame,
    box: pd.DataFrame,
    snaps: pd.DataFrame,
) -> pd.DataFrame:
    """Over/under lines for rotation players, from what was public at each snapshot.

    A player is posted while the books expect him to play 15 minutes or more: a day-of
    absentee's lines go up at the open and are pulled when his news lands; a reserve promoted
    by a team-mate's absence gets lines once that news is out.
    """
    key = ["game_key", "player_key"]
    n_stage = int(stages["stage"].max()) + 1
    # `stages` is sorted by game, player, stage with every stage present: reshape, not pivot.
    keys = stages[key].iloc[::n_stage].reset_index(drop=True)
    stage_avail = stages["available"].to_numpy().reshape(-1, n_stage)
    stage_min = stages["exp_minutes"].to_numpy().reshape(-1, n_stage)
    stage_exp = np.stack(
        [stages[c].to_numpy().reshape(-1, n_stage) for c in _TRUTH_COL], axis=-1
    )  # player-games x stages x markets
    chosen = np.flatnonzero((stage_avail & (stage_min >= MIN_PROP_MINUTES)).any(axis=1))
    pairs = keys.iloc[chosen].merge(truth[[*key, "team_key"]], on=key, how="left")
    stage_min, stage_exp = stage_min[chosen], stage_exp[chosen]
    prior = preseason_rates(rng, stages.iloc[::n_stage])
    rates = [public_rates(box, games, prior, lag) for lag in (1, 2)]
    rates = [pairs[key].merge(r, on=key, how="left") for r in rates]
    gpos = pd.Series(np.arange(len(games)), index=games["game_key"].to_numpy())
    game_idx = gpos.loc[pairs["game_key"].to_numpy()].to_numpy()
    own = news.drop_duplicates(key).set_index(key)["released_at"]
    own_s = own.dt.as_unit("s").astype("int64").reindex(pd.MultiIndex.from_frame(pairs[key]))
    own_s = own_s.to_numpy(dtype=float)
    own_ns = np.where(np.isnan(own_s), 2**62, np.nan_to_num(own_s)).astype(np.int64)

    n_pairs, n_m = len(pairs), len(MARKETS)
    rate = np.stack(
        [np.stack([r[f"rate_{m}"].to_numpy() for m in range(n_m)], axis=1) for r in rates]
    )  # lag x pairs x markets
    known_at = np.stack(
        [
            r["known_at"]
            .fillna(pd.Timestamp(0, tz="UTC"))
            .dt.as_unit("s")
            .astype("int64")
            .to_numpy()
            for r in rates
        ]  # no earlier game (NaT): nothing to wait for
    )

    # The consensus walk over each game's snapshots, one per (player, market).
    n_snap = np.bincount(snaps["g"].to_numpy(), minlength=len(games))
    snap_first = np.concatenate([[0], np.cumsum(n_snap)[:-1]])
    width = int(n_snap.max())
    cols = np.arange(width)
    snap_pos = snap_first[game_idx][:, None] + np.minimum(
        cols[None, :], n_snap[game_idx][:, None] - 1
    )
    fracs = snaps["frac"].to_numpy()[snap_pos]
    e_open = rng.normal(0, _OPEN_ERR, (n_pairs, n_m))
    e_close = rng.normal(0, _CLOSE_ERR, (n_pairs, n_m))
    walk = np.stack(
        [_bridge(rng, fracs, e_open[:, m], e_close[:, m], _BRIDGE) for m in range(n_m)], axis=1
    )  # pairs x markets x snapshots, in sd units
    book_err = rng.normal(0, _BOOK_ERR, (n_pairs, n_m, len(BOOKMAKERS)))
    cover = rng.random((n_pairs, n_m, len(BOOKMAKERS))) < _COVERAGE.T[None, :, :]
    start = rng.choice(3, (n_pairs, n_m, len(BOOKMAKERS)), p=[0.65, 0.25, 0.1])
    live_noise = rng.normal(0, 0.6, (n_pairs, n_m))

    # Every (pair, market, book, snapshot) candidate quote.
    pi, mi, bi = np.nonzero(cover)
    count = n_snap[game_idx[pi]]
    rep = np.repeat(np.arange(len(pi)), count)
    within = np.arange(len(rep)) - np.concatenate([[0], np.cumsum(count)[:-1]])[rep]
    p, m, b = pi[rep], mi[rep], bi[rep]
    snap_row = snap_first[game_idx[p]] + within
    stage = np.minimum(_released_count(snaps, games, news)[snap_row], n_stage - 1)
    at = snaps["snapshot_at"].dt.as_unit("s").astype("int64").to_numpy()[snap_row]
    live = snaps["live"].to_numpy()[snap_row]
    frac = snaps["frac"].to_numpy()[snap_row]
    minutes = stage_min[p, stage]
    informed = stage_exp[p, stage, m]
    # The walk is in units of the outcome's sd as known at the snapshot (news moves it too).
    sd = np.sqrt(DISPERSION[m] * np.maximum(informed, 0.3))
    # Calibrated before the blend: public form is made of actual nights, already calibrated.
    informed = sharp_mean(informed, m)
    # Form from the games over by the snapshot: the open of a back-to-back's second night comes
    # before the first night is played.
    lag = (known_at[0, p] > at).astype(np.int64)
    public = minutes * rate[lag, p, m]
    w_pub = _PUBLIC_OPEN + (_PUBLIC_CLOSE - _PUBLIC_OPEN) * frac
    est = informed + np.where(np.isnan(public), 0.0, w_pub * (public - informed))
    est = est + (walk[p, m, within] + book_err[p, m, b]) * sd
    est = np.maximum(est + live * live_noise[p, m] * sd, 0.05)

    posted = (within >= start[p, m, b]) | (within == n_snap[game_idx[p]] - 1)
    posted &= (minutes >= MIN_PROP_MINUTES) & (at < own_ns[p])
    posted &= (m != 3) | (informed >= 0.3)
    keep = np.flatnonzero(posted)
    point, p_over = line_and_over(est[keep], m[keep])
    # Drawn for every candidate, posted or not, so no quote's price depends on whether a later
    # one (after news nobody has yet) gets posted.
    margin = _MARGIN[b[keep]] + rng.normal(0, 0.003, len(p))[keep]
    return pd.DataFrame(
        {
            "game_key": games["game_key"].to_numpy()[game_idx[p[keep]]],
            "bookmaker_key": pd.Categorical.from_codes(b[keep], [k for k, _ in BOOKMAKERS]),
            "market": pd.Categorical.from_codes(m[keep], list(MARKETS)),
            "player_key": pairs["player_key"].to_numpy()[p[keep]],
            "snapshot_at": snaps["snapshot_at"].array[snap_row[keep]],
            "point": point,
            "over_price": _price(p_over, margin),
            "under_price": _price(1 - p_over, margin),
        }
    )


def game_lines(
    rng: np.random.Generator,
    games: pd.DataFrame,
    stage_team_exp: np.ndarray,
    news: pd.DataFrame,
    snaps: pd.DataFrame,
) -> pd.DataFrame:
    """Moneyline, spread and total per book and snapshot, from the teams' expected points.

    The expectation is the one after the game's news released so far (`stage_team_exp`: stages
    x games x home/away), plus a bridge from an opening error to a small closing error, plus
    each book's own.
    """
    n_games, n_books = len(games), len(BOOKMAKERS)
    n_snap = np.bincount(snaps["g"].to_numpy(), minlength=n_games)
    snap_first = np.concatenate([[0], np.cumsum(n_snap)[:-1]])
    width = int(n_snap.max())
    snap_pos = snap_first[:, None] + np.minimum(np.arange(width)[None, :], n_snap[:, None] - 1)
    fracs = snaps["frac"].to_numpy()[snap_pos]
    walks = []
    for sd_open, sd_close, sd_walk in ((1.6, 0.4, 1.0), (3.0, 0.6, 2.0)):
        walks.append(
            _bridge(
                rng,
                fracs,
                rng.normal(0, sd_open, n_games),
                rng.normal(0, sd_close, n_games),
                sd_walk,
            )
        )
    walk = np.stack(walks, axis=-1)  # games x snapshots x (margin, total)
    gi = np.repeat(np.arange(n_games), n_books)
    bi = np.tile(np.arange(n_books), n_games)
    book_err = rng.normal(0, [0.25, 0.4], (len(gi), 2))
    count = n_snap[gi]
    rep = np.repeat(np.arange(len(gi)), count)
    within = np.arange(len(rep)) - np.concatenate([[0], np.cumsum(count)[:-1]])[rep]
    g, b = gi[rep], bi[rep]
    snap_row = snap_first[g] + within
    stage = np.minimum(_released_count(snaps, games, news)[snap_row], len(stage_team_exp) - 1)
    exp_side = stage_team_exp[stage, g]
    live = snaps["live"].to_numpy()[snap_row][:, None]
    err = walk[g, within] + book_err[rep] + live * rng.normal(0, [6.0, 9.0], (len(rep), 2))
    est_margin = exp_side[:, 0] - exp_side[:, 1] + err[:, 0]
    est_total = exp_side.sum(axis=1) + _TOTAL_EXTRA - _TOTAL_SKEW + err[:, 1]
    spread_home = -np.round(est_margin * 2) / 2 + 0.0  # + 0.0 turns -0.0 into 0.0
    total_point = np.round(est_total * 2) / 2
    book_margin = _MARGIN[b] - 0.002
    p_home = norm_cdf(est_margin / _MARGIN_SD)
    p_cover = norm_cdf((est_margin + spread_home) / _MARGIN_SD)
    p_over = 1 - norm_cdf((total_point - est_total) / _TOTAL_SD)
    return pd.DataFrame(
        {
            "game_key": games["game_key"].to_numpy()[g],
            "bookmaker_key": pd.Categorical.from_codes(b, [k for k, _ in BOOKMAKERS]),
            "snapshot_at": snaps["snapshot_at"].array[snap_row],
            "h2h_home_price": _price(p_home, book_margin, lo=0.04),
            "h2h_away_price": _price(1 - p_home, book_margin, lo=0.04),
            "spread_home_point": spread_home,
            "spread_home_price": _price(p_cover, book_margin),
            "spread_away_price": _price(1 - p_cover, book_margin),
            "total_point": total_point,
            "total_over_price": _price(p_over, book_margin),
            "total_under_price": _price(1 - p_over, book_margin),
        }
    )
