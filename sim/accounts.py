"""Fused passes over every user's account slots, compiled with numba.

The user phase touches ``(n, K)`` account arrays many times a tick; in numpy each touch
is a full pass with a temporary, and gathers of per-platform values (``table[platform]``)
dominate. Each kernel here does one phase's work in a single pass. They are pure: arrays
(and pre-drawn uniforms from the run's Generator) in, arrays out. Empty slots
have platform ``-1``; per-platform tables have one entry per platform.
"""

import numpy as np
from numba import njit

from sim.trust import beta_mean

SQRT12 = np.sqrt(12.0)  # scales a uniform on [-1/2, 1/2] to unit variance


@njit(cache=True, nogil=True)
def trust_and_requests(
    platform,
    a,
    b,
    balance,
    g,
    threshold,
    prior_weight,
    frozen,
    exit_share,
    run_sensitivity,
    need,
    need_share,
    opinion_platform,
    opinion_trust,
    fled_platform,
    net_rate,
):  # pragma: no cover - numba
    """Yield, the withdrawal requests trust triggers, and what users would say.

    Balances are first credited ``balance *= 1 + net_rate[platform]`` (step 2's yield;
    see :class:`sim.market.Crediting`). With ``trust = (a + k g) / (a + b + k)``, a slot
    with money at a platform whose withdrawals are not ``frozen`` (a suspension stays
    them) asks for all of it when trust < the user's threshold raised by
    ``run_sensitivity`` times the share of the platform's holders seen leaving it last
    tick (``exit_share``: a threshold model of a run, Granovetter 1978), else for a
    ``need_share`` of it when the user has a routine liquidity need (``need``). Each
    user's opinion for word of mouth is the platform holding most of their money and
    their trust in it; ``fled_platform`` is the largest platform they ask all their money
    back from.

    Returns:
        ``(users, slots, amounts, before, after)``: the requests, and the sums of balances
        per platform before and after crediting.
    """
    n, k_max = platform.shape
    before = np.zeros(net_rate.size)
    after = np.zeros(net_rate.size)
    users = np.empty(n * k_max, np.int64)
    slots = np.empty(n * k_max, np.int64)
    amounts = np.empty(n * k_max)
    m = 0
    for i in range(n):
        best = 0.0
        opinion_platform[i] = -1
        fled_platform[i] = -1
        fled = 0.0
        for k in range(k_max):
            p = platform[i, k]
            if p < 0:
                continue
            t = beta_mean(a[i, k], b[i, k], g[i], prior_weight)
            before[p] += balance[i, k]
            balance[i, k] *= 1.0 + net_rate[p]
            after[p] += balance[i, k]
            if balance[i, k] <= 0.0:
                continue
            if balance[i, k] > best:
                best = balance[i, k]
                opinion_platform[i] = p
                opinion_trust[i] = t
            if frozen[p]:
                continue
            if t < threshold[i] + run_sensitivity * exit_share[p]:
                amount = balance[i, k]
                if amount > fled:
                    fled = amount
                    fled_platform[i] = p
            elif need[i]:
                amount = balance[i, k] * need_share
            else:
                continue
            users[m] = i
            slots[m] = k
            amounts[m] = amount
            m += 1
    return users[:m], slots[:m], amounts[:m], before, after


@njit(cache=True, nogil=True)
def alias_table(weights):  # pragma: no cover - numba
    """Walker's alias table of ``weights`` (Vose 1991): draws in O(1), built in O(n).

    Returns:
        ``(prob, alias)``: column ``i`` keeps ``i`` with chance ``prob[i]``, else gives
        ``alias[i]``; all ``prob`` are 0 and ``alias`` is -1 when no weight is positive.
    """
    n = weights.size
    prob = np.zeros(n)
    alias = np.full(n, -1, np.int64)
    total = 0.0
    for j in range(n):
        total += max(weights[j], 0.0)
    if total <= 0.0:
        return prob, alias
    scaled = np.empty(n)
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    n_small = n_large = 0
    for j in range(n):
        scaled[j] = max(weights[j], 0.0) * n / total
        if scaled[j] < 1.0:
            small[n_small] = j
            n_small += 1
        else:
            large[n_large] = j
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        s = small[n_small]
        g = large[n_large - 1]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            n_large -= 1
            small[n_small] = g
            n_small += 1
    for r in range(n_large):  # what is left is full up to rounding
        prob[large[r]] = 1.0
        alias[large[r]] = large[r]
    for r in range(n_small):
        j = small[r]
        if scaled[j] > 0.0:  # else a zero weight left by rounding: it draws nothing
            prob[j] = 1.0
            alias[j] = j
    return prob, alias


@njit(cache=True, nogil=True, inline="always")
def _alias_pick(prob, alias, u):  # pragma: no cover - numba
    """The index drawn by one uniform ``u`` from an :func:`alias_table` (-1 if empty)."""
    n = prob.size
    x = u * n
    i = min(int(x), n - 1)
    return i if x - i < prob[i] else alias[i]


@njit(cache=True, nogil=True)
def choose_and_deposit(
    users,
    platform,
    a,
    b,
    g,
    tip_platform,
    tip_trust,
    base_utility,
    accepting,
    public_good,
    public_bad,
    presence_prob,
    presence_alias,
    considered,
    prior_weight,
    weight_trust,
    tip_weight,
    temperature,
    threshold,
    exposure,
    uniforms,
    cash,
    balance,
    ever_invested,
    deposit_share,
    switch_threshold,
    exit_share,
    run_sensitivity,
):  # pragma: no cover - numba
    """A reviewing user's choice among the platforms they know of, and what follows.

    The platforms a user weighs are the ones they hold, a neighbour's tip, and
    ``considered`` platforms noticed in proportion to market presence (drawn from its
    :func:`alias_table` ``presence_prob, presence_alias``),
    among those ``accepting`` deposits. Utility ``U_j = base_j + weight_trust tau_ij``:
    ``tau`` is the account's trust if held; else the public record read with the user's
    prior, ``(A_j + k g_i) / (A_j + B_j + k)`` (``A, B`` = ``public_good, public_bad``),
    mixed ``tip_weight`` with a neighbour's tip. The choice is a softmax at
    ``temperature`` (one uniform, inverse CDF). The user deposits ``deposit_share`` of idle
    money, up to their ``exposure`` of cash plus balances, if ``tau`` of the choice reaches
    their threshold, raised as for withdrawals by ``run_sensitivity`` x the platform's
    ``exit_share`` (nobody puts money where they would take it out); a new account starts
    from the public record. A user who prefers a
    platform they do not hold to one they hold by more than ``switch_threshold`` asks for
    the latter's balance (money moves on at a later review).

    ``uniforms`` is ``(m, considered + 1)``: presence draws, then the choice.

    Returns:
        ``(chosen, amount, switch_users, switch_slots)``: per candidate the platform (-1
        for no deposit) and the sum; and the switch requests.
    """
    m = users.size
    k_max = platform.shape[1]
    size = k_max + 1 + considered
    chosen = np.full(m, -1, np.int64)
    amounts = np.zeros(m)
    switch_users = np.empty(m, np.int64)
    switch_slots = np.empty(m, np.int64)
    n_switch = 0
    cand = np.empty(size, np.int64)
    cand_slot = np.empty(size, np.int64)
    utility = np.empty(size)
    weight = np.empty(size)
    tau = np.empty(size)
    for r in range(m):
        i = np.uintp(users[r])  # unsigned: no negative-index test on each gather
        gi = g[i]
        n_cand = 0
        free = -1
        held_total = 0.0
        for k in range(k_max):
            p = platform[i, k]
            if p < 0:
                if free < 0:
                    free = k
                continue
            held_total += balance[i, k]
            cand[n_cand] = p
            cand_slot[n_cand] = k
            tau[n_cand] = beta_mean(a[i, k], b[i, k], gi, prior_weight)
            n_cand += 1
        n_held = n_cand
        tp = tip_platform[i]
        for c in range(considered + 1):
            j = tp if c == 0 else _alias_pick(presence_prob, presence_alias, uniforms[r, c - 1])
            if j < 0 or not accepting[j]:
                continue
            seen = False
            for s in range(n_cand):
                if cand[s] == j:
                    seen = True
            if seen:
                continue
            public = beta_mean(public_good[j], public_bad[j], gi, prior_weight)
            cand[n_cand] = j
            cand_slot[n_cand] = -1
            tau[n_cand] = (
                (1.0 - tip_weight) * public + tip_weight * tip_trust[i] if c == 0 else public
            )
            n_cand += 1
        tip_platform[i] = -1  # a tip is used up at a review
        top = -np.inf
        for s in range(n_cand):
            j = cand[s]
            if s < n_held and not accepting[j]:
                utility[s] = -np.inf  # held, but it takes no deposits now
            else:
                utility[s] = (base_utility[j] + weight_trust * tau[s]) / temperature
            top = max(top, utility[s])
        if top == -np.inf:
            continue
        total = 0.0
        for s in range(n_cand):
            # exp(0) is 1 exactly, and -inf gives 0; exp is a third of this pass.
            weight[s] = 1.0 if utility[s] == top else np.exp(utility[s] - top)
            total += weight[s]
        target = uniforms[r, considered] * total
        pick = -1
        run = 0.0
        for s in range(n_cand):
            if weight[s] > 0.0:
                run += weight[s]
                pick = s
                if run > target:
                    break
        j = cand[pick]
        # Switching: a held account far below the choice moves on (all of it).
        if cand_slot[pick] < 0:
            worst = -1
            worst_u = np.inf
            for s in range(n_held):
                u_s = (base_utility[cand[s]] + weight_trust * tau[s]) / temperature
                if u_s < worst_u and balance[i, cand_slot[s]] > 0.0:
                    worst_u = u_s
                    worst = s
            if worst >= 0 and utility[pick] - worst_u > switch_threshold / temperature:
                switch_users[n_switch] = i
                switch_slots[n_switch] = cand_slot[worst]
                n_switch += 1
        if tau[pick] < threshold[i] + run_sensitivity * exit_share[j]:
            continue
        slot = cand_slot[pick] if cand_slot[pick] >= 0 else free
        if slot < 0:
            continue  # every slot is taken: the money moves once a switch frees one
        room = exposure[i] * (cash[i] + held_total) - held_total
        amount = min(cash[i] * deposit_share, room)
        if amount <= 0.0:
            continue
        if cand_slot[pick] < 0:  # a new account starts from the public record
            platform[i, slot] = j
            a[i, slot] = public_good[j]
            b[i, slot] = public_bad[j]
        chosen[r] = j
        cash[i] -= amount
        balance[i, slot] += amount
        ever_invested[i] = True
        amounts[r] = amount
    return chosen, amounts, switch_users[:n_switch], switch_slots[:n_switch]


@njit(cache=True, nogil=True, inline="always")
def _tally_user(
    i, platform, a, b, balance, g, prior_weight, hist, plat_trust, plat_holders, sums, value
):  # pragma: no cover - numba
    """Add user ``i``'s accounts to the histogram and per-platform sums (inlined).

    ``sums[p]`` also gains ``value`` for each account at ``p`` (the user's satisfaction,
    for ratings).

    Returns:
        ``(accounts, trust_sum, trust_balance_sum, balance_sum)`` of the user, for the
        caller to add to its own locals (sums kept in an array would be reloaded every
        slot: ten times slower at 1M users).
    """
    bins = hist.size
    count = 0
    trust_sum = 0.0
    trust_balance = 0.0
    balance_sum = 0.0
    for k in range(platform.shape[1]):
        p = platform[i, k]
        if p < 0:
            continue
        q = np.uintp(p)  # unsigned: no negative-index test on the scatters below
        t = beta_mean(a[i, k], b[i, k], g[i], prior_weight)
        count += 1
        trust_sum += t
        trust_balance += t * balance[i, k]
        balance_sum += balance[i, k]
        hist[np.uintp(min(int(t * bins), bins - 1))] += 1
        plat_trust[q] += t
        plat_holders[q] += 1
        sums[q] += value
    return count, trust_sum, trust_balance, balance_sum


@njit(cache=True, nogil=True, inline="always")
def _tally_into(
    totals, i, platform, a, b, balance, g, prior_weight, hist, plat_trust, plat_holders,
    plat_satisfaction, satisfaction_, ever_invested,
):  # pragma: no cover - numba  # fmt: skip
    """User ``i`` added to the running ``totals`` of :func:`account_summary` (inlined).

    ``totals`` is ``(count, trust_sum, trust_balance, balance_sum, invested,
    satisfaction_sum, ever)``; the per-platform sums and the histogram are added in place.
    """
    count, trust_sum, trust_balance, balance_sum, invested, satisfaction_sum, ever = totals
    if ever_invested[i]:
        ever += 1
        satisfaction_sum += satisfaction_[i]
    c, ts, tb, bs = _tally_user(
        i, platform, a, b, balance, g, prior_weight, hist, plat_trust, plat_holders,
        plat_satisfaction, satisfaction_[i],
    )  # fmt: skip
    return (
        count + c,
        trust_sum + ts,
        trust_balance + tb,
        balance_sum + bs,
        invested + (c > 0),
        satisfaction_sum,
        ever,
    )


@njit(cache=True, nogil=True, inline="always")
def _summary(totals, hist, plat_trust, plat_holders, plat_satisfaction):  # pragma: no cover
    """:func:`account_summary`'s tuple from the running totals and per-platform sums."""
    count, trust_sum, trust_balance, balance_sum, invested, satisfaction_sum, ever = totals
    return (
        count,
        trust_sum,
        trust_balance,
        balance_sum,
        hist,
        plat_trust,
        plat_holders,
        invested,
        satisfaction_sum,
        ever,
        plat_satisfaction,
    )


@njit(cache=True, nogil=True)
def evidence(
    platform,
    uniforms,
    literacy,
    literacy_noise,
    good_base,
    bad_base,
    disclosure_weight,
    signal_base,
    news_bad,
    reached,
    g,
    failed,
    own_outcome,
    failed_evidence,
    a,
    b,
    forgetting_good,
    forgetting_bad,
    w_plus,
    w_minus,
    balance,
    user_loss,
    value,
    smoothing,
    threshold,
    satisfaction_,
    prior_weight,
    bins,
    ever_invested,
):  # pragma: no cover - numba
    """Every slot's evidence, learned at once (steps 6-7); outcomes and the tally (step 8).

    A user reads a disclosure with personal noise ``r_i = z_i literacy_noise (1 - lit_i)``,
    ``z_i = sqrt(12) (u_i - 1/2)`` from a uniform ``u_i`` (mean 0, sd 1; a uniform costs a
    fraction of a normal draw at a million users); with ``s = clip(signal_base_p + r_i, 0, 1)``:
    ``good = good_base_p + w_p s`` and
    ``bad = bad_base_p + w_p (1 - s) + reached_i g_i news_bad_p``,
    where the bases gather own outcome, incidents and ratings per platform. A ``failed``
    withdrawal pays nothing (``own_outcome`` less good, floored at 0) and is
    ``failed_evidence`` more bad. The evidence is then learned as
    :func:`sim.trust.update_evidence` does, ``a <- lam+ a + w+ good``,
    ``b <- lam- b + w- bad``: one pass instead of writing the evidence out and reading it
    back (empty slots hold no evidence, so they are skipped). Evidence heard earlier in the
    tick (rumours, word of mouth) is already in ``a, b`` and is forgotten with the rest.

    While the row is read, the same pass does step 8's outcomes (nothing they read changes
    in between; see :mod:`sim.satisfaction`): a slot's outcome is ``value_p``, 0 on a
    failed withdrawal; the user's outcome is the balance-weighted mean (0 after a loss);
    satisfaction moves ``smoothing`` of the way to it; a user whose outcome is below
    ``threshold`` is dissatisfied with the platform of their worst slot. Last, the row is
    tallied as :func:`account_summary` does (``g`` is final for the tick by then: system
    trust moves before this pass), so the accounts are read once a tick for both.

    Returns:
        ``(unhappy_users, unhappy_platforms, summary)``: the dissatisfied, their worst
        platform, and :func:`account_summary`'s tuple after the pass.
    """
    n, k_max = platform.shape
    n_platforms = value.size
    unhappy_users = np.empty(n, np.int64)
    unhappy_platforms = np.empty(n, np.int64)
    n_unhappy = 0
    hist = np.zeros(bins, np.int64)
    plat_trust = np.zeros(n_platforms)
    plat_holders = np.zeros(n_platforms, np.int64)
    plat_satisfaction = np.zeros(n_platforms)
    totals = (0, 0.0, 0.0, 0.0, 0, 0.0, 0)
    for i in range(n):
        reading = (uniforms[i] - 0.5) * SQRT12 * literacy_noise * (1.0 - literacy[i])
        total = 0.0
        weighted = 0.0
        worst = 2.0
        worst_p = -1
        for k in range(k_max):
            p = platform[i, k]
            if p < 0:
                continue
            a[i, k] *= forgetting_good
            b[i, k] *= forgetting_bad
            s = signal_base[p] + reading
            s = min(max(s, 0.0), 1.0)
            w = disclosure_weight[p]
            good = good_base[p] + w * s
            extra = news_bad[p] * g[i] if reached[i] else 0.0
            bad = bad_base[p] + w * (1.0 - s) + extra
            if failed[i, k]:
                good = max(good - own_outcome, 0.0)
                bad += failed_evidence
                out = 0.0
                held = balance[i, k] + 1.0
            else:
                out = value[p]
                held = balance[i, k]
            a[i, k] += w_plus * good
            b[i, k] += w_minus * bad
            total += held
            weighted += held * out
            if out < worst:
                worst = out
                worst_p = p
        lost = user_loss[i] > 0.0
        if total > 0.0 or lost:
            outcome = 0.0 if lost else weighted / total
            satisfaction_[i] += smoothing * (outcome - satisfaction_[i])
            if outcome < threshold and worst_p >= 0:
                unhappy_users[n_unhappy] = i
                unhappy_platforms[n_unhappy] = worst_p
                n_unhappy += 1
        totals = _tally_into(
            totals, i, platform, a, b, balance, g, prior_weight, hist, plat_trust,
            plat_holders, plat_satisfaction, satisfaction_, ever_invested,
        )  # fmt: skip
    summary = _summary(totals, hist, plat_trust, plat_holders, plat_satisfaction)
    return unhappy_users[:n_unhappy], unhappy_platforms[:n_unhappy], summary


@njit(cache=True, nogil=True)
def account_summary(
    platform, a, b, balance, g, prior_weight, bins, n_platforms, satisfaction_, ever_invested
):  # pragma: no cover - numba
    """Trust and satisfaction statistics of the accounts (MODEL.md steps 8 and 10), in one pass.

    Returns:
        ``(count, trust_sum, trust_balance_sum, balance_sum, histogram, plat_trust_sum,
        plat_holders, invested_users, satisfaction_sum, ever_invested_users,
        plat_satisfaction_sum)``; the histogram of account trust has ``bins`` bins over
        [0, 1]; ``satisfaction_sum`` is over users who ever invested,
        ``plat_satisfaction_sum`` over each platform's holders (its rating).
    """
    hist = np.zeros(bins, np.int64)
    plat_trust = np.zeros(n_platforms)
    plat_holders = np.zeros(n_platforms, np.int64)
    plat_satisfaction = np.zeros(n_platforms)
    totals = (0, 0.0, 0.0, 0.0, 0, 0.0, 0)
    for i in range(platform.shape[0]):
        totals = _tally_into(
            totals, i, platform, a, b, balance, g, prior_weight, hist, plat_trust,
            plat_holders, plat_satisfaction, satisfaction_, ever_invested,
        )  # fmt: skip
    return _summary(totals, hist, plat_trust, plat_holders, plat_satisfaction)


@njit(cache=True, nogil=True)
def word_of_mouth(
    listeners,
    speakers,
    platform,
    opinion_platform,
    opinion_trust,
    fled_platform,
    weight,
    panic_weight,
    w_plus,
    w_minus,
    a,
    b,
    tip_platform,
    tip_trust,
    aware,
):  # pragma: no cover - numba
    """Each listener hears one speaker about the platform the speaker holds most money in.

    The speaker's opinion is their trust ``t`` in it (step 3's ``opinion_*``); a speaker
    who asked all their money back from a platform this tick tells of that instead, with
    trust 0. A listener holding the platform takes ``weight t`` good and ``weight (1 - t)``
    bad evidence on that account, and ``panic_weight`` more bad if the speaker fled it
    (learned at once: ``w_plus`` and ``w_minus`` times that onto ``a, b``); one who does
    not keeps it as a tip for their next review. A listener told of the market
    becomes aware of it. Speakers with nothing to say say nothing.

    Returns:
        The opinions said, in listener order (float32).
    """
    m = listeners.size
    k_max = platform.shape[1]
    said = np.empty(m, np.float32)
    count = 0
    for r in range(m):
        j = np.uintp(speakers[r])  # unsigned: no negative-index test on each gather
        fled = fled_platform[j] >= 0
        said_platform = fled_platform[j] if fled else opinion_platform[j]
        if said_platform < 0:
            continue
        opinion = np.float32(0.0) if fled else opinion_trust[j]
        said[count] = opinion
        count += 1
        i = np.uintp(listeners[r])
        aware[i] = True
        matched = False
        for k in range(k_max):
            if platform[i, k] == said_platform:
                a[i, k] += w_plus * (weight * opinion)
                b[i, k] += w_minus * (weight * (1.0 - opinion) + (panic_weight if fled else 0.0))
                matched = True
        if not matched:
            tip_platform[i] = said_platform
            tip_trust[i] = opinion
    return said[:count]


@njit(cache=True, nogil=True)
def move_system_trust(
    g,
    propensity,
    user_loss,
    balance,
    reached,
    home,
    shock,
    calm_gain,
    own_loss_shock,
    reassurance,
    alarm,
):  # pragma: no cover - numba
    """In place, one pass: ``g <- g + U (1 - g) - D g`` (see :mod:`sim.information`).

    ``shock``, ``calm_gain``, ``reassurance`` and ``alarm`` have one entry per
    jurisdiction; user ``i`` reads those of ``home[i]``. ``D`` is the sector ``shock``
    plus, for a user who lost money, ``own_loss_shock`` x the share of their money lost
    (which also scars ``propensity``), plus ``alarm`` for users ``reached`` by enforcement
    news. ``U`` is ``calm_gain`` for a user who lost nothing, plus ``reassurance`` if
    reached, times ``1 - D``. Both are clipped to [0, 1].
    """
    n, k_max = balance.shape
    for i in range(n):
        h = home[i]
        down = shock[h]
        up = calm_gain[h]
        if user_loss[i] > 0.0:
            at_stake = user_loss[i]
            for k in range(k_max):
                at_stake += balance[i, k]
            scar = own_loss_shock * user_loss[i] / at_stake
            down += scar
            propensity[i] *= 1.0 - min(scar, 1.0)
            up = 0.0
        if reached[i]:
            up += reassurance[h]
            down += alarm[h]
        down = min(max(down, 0.0), 1.0)
        up = min(max(up, 0.0), 1.0) * (1.0 - down)
        gi = g[i] + up * (1.0 - g[i]) - down * g[i]
        g[i] = min(max(gi, 0.0), 1.0)
