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
def credit_yield(platform, balance, net_rate, n_platforms):  # pragma: no cover - numba
    """``balance *= 1 + net_rate[platform]`` on open slots.

    Returns:
        ``(before, after)``: sums of balances per platform before and after crediting.
    """
    before = np.zeros(n_platforms)
    after = np.zeros(n_platforms)
    n, k_max = platform.shape
    for i in range(n):
        for k in range(k_max):
            p = platform[i, k]
            if p >= 0:
                before[p] += balance[i, k]
                balance[i, k] *= 1.0 + net_rate[p]
                after[p] += balance[i, k]
    return before, after


@njit(cache=True, nogil=True)
def trust_and_requests(
    platform, a, b, balance, g, threshold, prior_weight, forced, need, need_share, trust
):  # pragma: no cover - numba
    """Trust of every slot and the withdrawal requests it triggers (MODEL.md step 3).

    ``trust = (a + k g) / (a + b + k)`` is written to ``trust`` (empty slots read ``g``).
    A slot with money asks for all of it when trust < the user's threshold or the
    platform is being closed (``forced``), else a ``need_share`` of it when the user has
    a routine liquidity need (``need``).

    Returns:
        ``(users, slots, amounts)`` of the requests.
    """
    n, k_max = platform.shape
    users = np.empty(n * k_max, np.int64)
    slots = np.empty(n * k_max, np.int64)
    amounts = np.empty(n * k_max)
    m = 0
    for i in range(n):
        for k in range(k_max):
            t = beta_mean(a[i, k], b[i, k], g[i], prior_weight)
            trust[i, k] = t
            p = platform[i, k]
            if p < 0 or balance[i, k] <= 0.0:
                continue
            if t < threshold[i] or forced[p]:
                amount = balance[i, k]
            elif need[i]:
                amount = balance[i, k] * need_share
            else:
                continue
            users[m] = i
            slots[m] = k
            amounts[m] = amount
            m += 1
    return users[:m], slots[:m], amounts[:m]


@njit(cache=True, nogil=True)
def choose_and_deposit(
    users,
    platform,
    trust,
    g,
    tip_platform,
    tip_trust,
    base_utility,
    is_open,
    weight_trust,
    tip_weight,
    temperature,
    threshold,
    uniforms,
    cash,
    balance,
    ever_invested,
    deposit_share,
):  # pragma: no cover - numba
    """Softmax platform choice and the deposit that follows (MODEL.md step 3).

    ``U_j = base_utility_j + weight_trust * own_ij`` where ``own_ij`` is the account's
    trust if held, ``(1 - tip_weight) g_i + tip_weight tip`` for a neighbour's tip, else
    ``g_i``. Closed platforms, and platforms not held when all slots are full, are not
    available. One uniform per user samples the softmax by inverse CDF. A user invests
    only if their trust in the chosen platform reaches their threshold; they then move
    ``deposit_share`` of their cash into the account (opening it in the first free slot
    if new), and a tip they followed or not is used up.

    Returns:
        ``(chosen, amount)`` per candidate: the platform (-1 for no deposit) and the sum.
    """
    m = users.size
    n_plat = base_utility.size
    k_max = platform.shape[1]
    chosen = np.full(m, -1, np.int64)
    amounts = np.zeros(m)
    # exp(U_j) = exp(base_j / T) exp(w own_ij / T): for the platforms a user knows only
    # through the prior g_i the second factor is common, so those weights are a table
    # lookup times one exp per user; only held or tipped platforms need their own exp.
    scaled = base_utility / temperature
    top = -np.inf
    for j in range(n_plat):
        if is_open[j]:
            top = max(top, scaled[j])
    base_weight = np.zeros(n_plat)
    for j in range(n_plat):
        if is_open[j]:
            base_weight[j] = np.exp(scaled[j] - top)
    own = np.empty(n_plat)
    special = np.zeros(n_plat, np.bool_)
    specials = np.empty(k_max + 1, np.int64)  # held and tipped platforms of this user
    cdf = np.empty(n_plat)
    for r in range(m):
        i = users[r]
        gi = g[i]
        n_special = 0
        free = -1
        for k in range(k_max):
            p = platform[i, k]
            if p >= 0:
                own[p] = trust[i, k]
                special[p] = True
                specials[n_special] = p
                n_special += 1
            elif free < 0:
                free = k
        tp = tip_platform[i]
        if tp >= 0 and free >= 0 and not special[tp]:
            own[tp] = (1.0 - tip_weight) * gi + tip_weight * tip_trust[i]
            special[tp] = True
            specials[n_special] = tp
            n_special += 1
        # Shift by the largest utility so no exp overflows.
        generic_u = top + weight_trust * gi / temperature
        shift = generic_u if free >= 0 else -np.inf
        for s in range(n_special):
            j = specials[s]
            if is_open[j]:
                shift = max(shift, scaled[j] + weight_trust * own[j] / temperature)
        total = 0.0
        if shift > -np.inf:
            generic_factor = np.exp(generic_u - shift) if free >= 0 else 0.0
            for j in range(n_plat):
                if not is_open[j]:
                    weight = 0.0
                elif special[j]:
                    weight = np.exp(scaled[j] + weight_trust * own[j] / temperature - shift)
                else:
                    weight = base_weight[j] * generic_factor
                total += weight
                cdf[j] = total
        pick = -1
        if total > 0.0:
            target = uniforms[r] * total
            for j in range(n_plat):
                if cdf[j] > target:
                    pick = j
                    break
            if pick < 0:  # target == total at the last step: the last platform with weight
                for j in range(n_plat - 1, -1, -1):
                    if cdf[j] > (cdf[j - 1] if j > 0 else 0.0):
                        pick = j
                        break
        own_pick = own[pick] if pick >= 0 and special[pick] else gi
        for s in range(n_special):
            special[specials[s]] = False
        if pick < 0:
            continue
        if own_pick < threshold[i]:
            continue
        chosen[r] = pick
        slot = free
        for k in range(k_max):
            if platform[i, k] == pick:
                slot = k
        amount = cash[i] * deposit_share
        cash[i] -= amount
        balance[i, slot] += amount
        platform[i, slot] = pick
        ever_invested[i] = True
        tip_platform[i] = -1
        amounts[r] = amount
    return chosen, amounts


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
    good,
    bad,
):  # pragma: no cover - numba
    """Good and bad evidence of every slot from this tick's information (MODEL.md step 6).

    A user reads a disclosure with personal noise ``r_i = z_i literacy_noise (1 - lit_i)``,
    ``z_i = sqrt(12) (u_i - 1/2)`` from a uniform ``u_i`` (mean 0, sd 1; a uniform costs a
    fraction of a normal draw at a million users); with ``s = clip(signal_base_p + r_i, 0, 1)``:
    ``good = good_base_p + w_p s`` and
    ``bad = bad_base_p + w_p (1 - s) + reached_i g_i news_bad_p``,
    where the bases gather own outcome, incidents and ratings per platform.
    """
    n, k_max = platform.shape
    for i in range(n):
        reading = (uniforms[i] - 0.5) * SQRT12 * literacy_noise * (1.0 - literacy[i])
        for k in range(k_max):
            p = platform[i, k]
            if p < 0:
                good[i, k] = 0.0
                bad[i, k] = 0.0
                continue
            s = signal_base[p] + reading
            s = min(max(s, 0.0), 1.0)
            w = disclosure_weight[p]
            good[i, k] = good_base[p] + w * s
            extra = news_bad[p] * g[i] if reached[i] else 0.0
            bad[i, k] = bad_base[p] + w * (1.0 - s) + extra


@njit(cache=True, nogil=True)
def satisfaction(
    platform,
    balance,
    failed,
    user_loss,
    incident,
    ux,
    ux_weight,
    incident_delivery,
    smoothing,
    threshold,
    complaint_prob,
    literacy,
    uniforms,
    satisfaction_,
    rating_prior,
):  # pragma: no cover - numba
    """Outcomes, satisfaction, complaints and ratings in one pass (MODEL.md step 8).

    Slot outcome ``(1 - ux_weight) delivery + ux_weight ux_p``, delivery 1 as promised,
    ``incident_delivery`` under an outage or breach, 0 on a failed withdrawal; the user's
    outcome is the balance-weighted mean (0 after a loss). Satisfaction moves
    ``smoothing`` of the way to it. A user whose outcome is below ``threshold`` complains
    (with probability ``complaint_prob * literacy``) to the platform of their worst slot.

    Returns:
        ``(complaints, rating, holders)`` per platform; rating is the holders' mean
        satisfaction, ``rating_prior`` where nobody holds.
    """
    n, k_max = platform.shape
    n_plat = ux.size
    complaints = np.zeros(n_plat, np.int64)
    holders = np.zeros(n_plat, np.int64)
    sums = np.zeros(n_plat)
    for i in range(n):
        total = 0.0
        weighted = 0.0
        worst = 2.0
        worst_p = -1
        for k in range(k_max):
            p = platform[i, k]
            if p < 0:
                continue
            if failed[i, k]:
                delivery = 0.0
            elif incident[p]:
                delivery = incident_delivery
            else:
                delivery = 1.0
            out = (1.0 - ux_weight) * delivery + ux_weight * ux[p]
            w = balance[i, k] + (1.0 if failed[i, k] else 0.0)
            total += w
            weighted += w * out
            if out < worst:
                worst = out
                worst_p = p
        lost = user_loss[i] > 0.0
        if total > 0.0 or lost:
            outcome = 0.0 if lost else weighted / total
            satisfaction_[i] += smoothing * (outcome - satisfaction_[i])
            if outcome < threshold and worst_p >= 0 and uniforms[i] < complaint_prob * literacy[i]:
                complaints[worst_p] += 1
        for k in range(k_max):  # ratings: the holders' satisfaction, while the row is hot
            p = platform[i, k]
            if p >= 0:
                holders[p] += 1
                sums[p] += satisfaction_[i]
    rating = rating_prior.copy()
    for j in range(n_plat):
        if holders[j] > 0:
            rating[j] = sums[j] / holders[j]
    return complaints, rating, holders


@njit(cache=True, nogil=True)
def account_summary(
    platform, a, b, balance, g, prior_weight, bins, n_platforms, satisfaction_, ever_invested
):  # pragma: no cover - numba
    """Trust and satisfaction statistics for the metrics (MODEL.md step 10), in one pass.

    Returns:
        ``(count, trust_sum, trust_balance_sum, balance_sum, histogram, plat_trust_sum,
        plat_holders, invested_users, satisfaction_sum, ever_invested_users)``; the
        histogram of account trust has ``bins`` bins over [0, 1]; satisfaction is summed
        over users who ever invested.
    """
    n, k_max = platform.shape
    hist = np.zeros(bins, np.int64)
    plat_trust = np.zeros(n_platforms)
    plat_holders = np.zeros(n_platforms, np.int64)
    count = 0
    trust_sum = 0.0
    trust_balance = 0.0
    balance_sum = 0.0
    invested = 0
    satisfaction_sum = 0.0
    ever = 0
    for i in range(n):
        if ever_invested[i]:
            ever += 1
            satisfaction_sum += satisfaction_[i]
        holds = False
        for k in range(k_max):
            p = platform[i, k]
            if p < 0:
                continue
            holds = True
            t = beta_mean(a[i, k], b[i, k], g[i], prior_weight)
            count += 1
            trust_sum += t
            trust_balance += t * balance[i, k]
            balance_sum += balance[i, k]
            hist[min(int(t * bins), bins - 1)] += 1
            plat_trust[p] += t
            plat_holders[p] += 1
        if holds:
            invested += 1
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
    )


@njit(cache=True, nogil=True)
def word_of_mouth(
    listeners,
    speakers,
    platform,
    a,
    b,
    balance,
    g,
    prior_weight,
    weight,
    good,
    bad,
    tip_platform,
    tip_trust,
):  # pragma: no cover - numba
    """Each listener hears one speaker on the platform the speaker holds most money in.

    The speaker's opinion is their trust ``t`` in that platform. A listener holding it
    adds ``weight t`` good and ``weight (1 - t)`` bad evidence to that account; one who
    does not keeps it as a tip (platform and ``t``) for their next choice. Speakers with
    no account say nothing.

    Returns:
        The opinions said, in listener order (float32).
    """
    m = listeners.size
    k_max = platform.shape[1]
    said = np.empty(m, np.float32)
    count = 0
    for r in range(m):
        j = speakers[r]
        best = -1.0
        said_platform = -1
        opinion = 0.0
        for k in range(k_max):
            p = platform[j, k]
            if p >= 0 and balance[j, k] > best:
                best = balance[j, k]
                said_platform = p
                opinion = beta_mean(a[j, k], b[j, k], g[j], prior_weight)
        if said_platform < 0:
            continue
        said[count] = opinion
        count += 1
        i = listeners[r]
        matched = False
        for k in range(k_max):
            if platform[i, k] == said_platform:
                good[i, k] += weight * opinion
                bad[i, k] += weight * (1.0 - opinion)
                matched = True
        if not matched:
            tip_platform[i] = said_platform
            tip_trust[i] = opinion
    return said[:count]


@njit(cache=True, nogil=True)
def update_evidence(a, b, good, bad, forgetting, w_plus, w_minus):  # pragma: no cover - numba
    """In place, one pass: ``a <- lam a + w_plus good``, ``b <- lam b + w_minus bad``.

    The update of :func:`sim.trust.update_evidence` fused for ``(n, K)`` account arrays
    (numpy needs six passes and two temporaries for it).
    """
    n, k_max = a.shape
    for i in range(n):
        for k in range(k_max):
            a[i, k] = forgetting * a[i, k] + w_plus * good[i, k]
            b[i, k] = forgetting * b[i, k] + w_minus * bad[i, k]
