"""Settings of the reviews service beyond the platform's Config: one typed object, read once
(``services.common.config.load_settings``); DOMAIN.md asks these rules to be configurable."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.config import setting

from . import domain


@dataclass
class Settings:
    suggest_threshold: float = setting("REVIEWS_SUGGEST_THRESHOLD", 0.05)  # t of the suggestion rule
    objection_days: int = setting("REVIEWS_OBJECTION_DAYS", domain.OBJECTION_DAYS)
    peer_min_raters: int = setting("REVIEWS_PEER_MIN_RATERS", domain.PEER_MIN_RATERS)
    require_self_assessment: bool = setting("REVIEWS_REQUIRE_SELF_ASSESSMENT", False)
    head_takes_org_result: bool = setting("REVIEWS_HEAD_TAKES_ORG_RESULT", True)
    # where the read model is rebuilt from; unset: this server in embedded mode, a 503 in production (no guess)
    plans_url: str | None = setting("PLANS_URL", None)
