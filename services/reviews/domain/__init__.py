"""The reviews service's rule book: ratings and predikat, the suggested rating, the
distribution curve, the evaluation and objection lifecycles, follow-up, rater
consistency, peer feedback and the evaluation document's content hash.

Pure functions and small value classes only — no Flask, no SQLAlchemy, no I/O and no
clock calls: every date is a parameter. Section references (``DOMAIN.md §n``) point to
``/work/shared/DOMAIN.md``.

Two suggested ratings, both explained per item with reason codes, both ours where the
regulation gives no formula: the rating hasil kerja from indicator achievement
(:func:`suggest_hasil`, the DOMAIN.md §4 rule), and the rating perilaku kerja from the
feedback recorded per BerAKHLAK value (:func:`suggest_perilaku`): each value takes the
level the penilai recorded with their feedback on it, else the level a strict majority
of the peers answered (when the peers' aggregate is shown), else it is not assessable;
the suggestion is **below** when any value is below (naming those values), **above**
when more than half of the assessable values are above and none below, otherwise
**meets**, and none when no value is assessable.

Errors carry *message-catalogue keys* (``"rating.invalid"``-style codes), a field name
and parameters, never user-facing prose: the API layer translates them (DESIGN.md §7).
Wrong *programming* input (a negative headcount, an unknown status in :func:`frozen`) is
a ``ValueError``, as in the plans rule book.

Numbers (targets, realisations, thresholds, percentages) are compared exactly: a float
is read through its shortest decimal form (``1.05`` is exactly 105/100), so a boundary
typed by a person lands on the boundary, not a binary rounding error either side of it.

The rule book is split by subject: :mod:`.ratings`, :mod:`.suggestion`, :mod:`.distribution`,
:mod:`.lifecycle` and :mod:`.aggregates`; everything public is importable from here."""

from services.common.rules import DomainError

from .aggregates import (
    PEER_MIN_RATERS,
    RATING_SCORE,
    RaterStats,
    content_hash,
    peer_aggregate,
    rater_consistency,
)
from .distribution import (
    BOUNDS,
    DEFAULT_RULES,
    ROUNDINGS,
    Band,
    DistributionRule,
    Violation,
    allowed_count,
    check_distribution,
    curve,
    rule_from_dict,
    rule_to_dict,
)
from .lifecycle import (
    DECISIONS,
    EVALUATION_ACTIONS,
    EVALUATION_STATUSES,
    FOLLOWUP_OPEN,
    FOLLOWUP_STATUSES,
    OBJECTION_ACTIONS,
    OBJECTION_DAYS,
    OBJECTION_STATUSES,
    FollowUp,
    check_followup,
    check_objection_window,
    evaluation_transition,
    follow_up,
    followup_transition,
    frozen,
    objection_closes_on,
    objection_transition,
    require_self_assessment_first,
)
from .ratings import (
    BERAKHLAK,
    LOWER_IS_BETTER,
    ORG_RESULT_HASIL,
    ORG_RESULTS,
    PREDIKAT_MATRIX,
    PREDIKATS,
    RATINGS,
    InvalidTransition,
    ObjectionWindowClosed,
    org_result_to_hasil,
    predikat,
)
from .suggestion import (
    IKI_REASONS,
    PERILAKU_REASONS,
    SUGGESTION_REASONS,
    VALUE_REASONS,
    IkiClass,
    IkiInput,
    PerilakuSuggestion,
    RhkClass,
    RhkInput,
    Suggestion,
    ValueClass,
    below_values,
    classify_iki,
    classify_rhk,
    classify_value,
    suggest_hasil,
    suggest_perilaku,
)

__all__ = [
    "BERAKHLAK",
    "BOUNDS",
    "Band",
    "DECISIONS",
    "DEFAULT_RULES",
    "DistributionRule",
    "DomainError",
    "EVALUATION_ACTIONS",
    "EVALUATION_STATUSES",
    "FOLLOWUP_OPEN",
    "FOLLOWUP_STATUSES",
    "FollowUp",
    "IKI_REASONS",
    "IkiClass",
    "IkiInput",
    "InvalidTransition",
    "LOWER_IS_BETTER",
    "OBJECTION_ACTIONS",
    "OBJECTION_DAYS",
    "OBJECTION_STATUSES",
    "ORG_RESULTS",
    "ORG_RESULT_HASIL",
    "ObjectionWindowClosed",
    "PEER_MIN_RATERS",
    "PERILAKU_REASONS",
    "PREDIKATS",
    "PREDIKAT_MATRIX",
    "PerilakuSuggestion",
    "RATINGS",
    "RATING_SCORE",
    "ROUNDINGS",
    "RaterStats",
    "RhkClass",
    "RhkInput",
    "SUGGESTION_REASONS",
    "Suggestion",
    "VALUE_REASONS",
    "ValueClass",
    "Violation",
    "allowed_count",
    "below_values",
    "check_distribution",
    "check_followup",
    "check_objection_window",
    "classify_iki",
    "classify_rhk",
    "classify_value",
    "content_hash",
    "curve",
    "evaluation_transition",
    "follow_up",
    "followup_transition",
    "frozen",
    "objection_closes_on",
    "objection_transition",
    "org_result_to_hasil",
    "peer_aggregate",
    "predikat",
    "rater_consistency",
    "require_self_assessment_first",
    "rule_from_dict",
    "rule_to_dict",
    "suggest_hasil",
    "suggest_perilaku",
]
