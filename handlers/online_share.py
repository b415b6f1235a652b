"""R03: the online share of a class's hours, against its policy profile (checked on a new plan and again at
approval, R02)."""

from __future__ import annotations

from handlers.policy import OnlineShare, Profile, format_percent, max_count, min_count
from handlers.texts import classes as texts


def online_share_problem(profile: Profile, *, total: int, online: int, theory: int | None, occupation: str,
                         name: str, online_approval: str | None) -> str | None:
    """R03: why ``online`` of ``total`` hours breaks the profile's limit, with the numbers; None when it keeps
    within it. Used on a new plan (:func:`check_plan`) and again at approval (R02)."""
    share = profile.online_share
    if share.kind == "theory":
        return _theory_share_problem(share, total=total, online=online, theory=theory, occupation=occupation,
                                     name=name, online_approval=online_approval)
    if share.kind == "max":
        limit = max_count(total, share.ratio)
        ok, template = online <= limit, texts.PLAN_ONLINE_SHARE_OVER_MAX
    else:
        limit = min_count(total, share.ratio)
        ok, template = online >= limit, texts.PLAN_ONLINE_SHARE_UNDER_MIN
    if ok:
        return None
    return template.format(online=online, total=total, percent=format_percent(share.ratio), limit=limit)


def _theory_share_problem(share: OnlineShare, *, total: int, online: int, theory: int | None, occupation: str,
                          name: str, online_approval: str | None) -> str | None:
    """R03 (Hengyang 002 §一, Shapingba 003 第五条): online hours at most the theory hours; IT and 创业 classes
    may go further with the district's approval noted in the plan."""
    theory = online if theory is None else theory
    if online <= theory:
        return None
    beyond = [k for k in share.beyond_theory_keywords if k in occupation or k in name]
    if beyond and online_approval:
        return None
    message = texts.PLAN_ONLINE_OVER_THEORY.format(online=online, theory=theory)
    if share.beyond_theory_keywords:
        message += texts.PLAN_ONLINE_BEYOND_THEORY_HINT.format(keywords="、".join(share.beyond_theory_keywords))
    return message
