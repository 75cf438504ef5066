"""Who is told about which event, per agency: the notification rules (the defaults of ``domain.py``
until HR edits them) and the agency's HR contacts (the ``hr`` audience: objections, calibration,
IKM, escalations)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal
from services.common.errors import FieldError
from services.common.usecase import now, parse_each, record, validation

from . import domain
from .models import HrContact, RuleRow
from .schemas import LANG, NIP, AgencyQuery
from .shared import PREFIX, hr_request, uow

blp = Blueprint(
    "notification_rules",
    __name__,
    url_prefix=PREFIX,
    description="HR: which events notify whom, and the agency's HR contacts",
)

# the consumer's per-event lookups, built once with bound parameters
_RULES = select(RuleRow).where(RuleRow.agency_code == bindparam("agency")).order_by(RuleRow.position)
_HR_CONTACTS = select(HrContact).where(HrContact.agency_code == bindparam("agency")).order_by(HrContact.id)


# ------------------------------------------------------------------ schemas


class HrContactIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=320))
    nip = fields.String(allow_none=True, load_default=None, validate=NIP)
    language = fields.String(load_default="id", validate=LANG)


class HrContactOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    nip = fields.String(allow_none=True)
    language = fields.String()


class HrContactsIn(Schema):
    contacts = fields.List(fields.Nested(HrContactIn), required=True, validate=validate.Length(max=50))


class HrContactsOut(Schema):
    agency_code = fields.String()
    contacts = fields.List(fields.Nested(HrContactOut))


class RuleIn(Schema):
    event_type = fields.String(required=True, validate=validate.Length(min=1, max=120))
    audience = fields.String(required=True, validate=validate.Length(min=1, max=20))
    template = fields.String(required=True, validate=validate.Length(min=1, max=80))
    enabled = fields.Boolean(load_default=True)
    when = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), allow_none=True, load_default=None)


class RuleOut(Schema):
    event_type = fields.String()
    audience = fields.String()
    template = fields.String()
    enabled = fields.Boolean()
    when = fields.Dict(allow_none=True)


class RulesIn(Schema):
    rules = fields.List(fields.Nested(RuleIn), required=True, validate=validate.Length(max=200))


class RulesOut(Schema):
    agency_code = fields.String()
    default = fields.Boolean(metadata={"description": "true while the agency uses the default rules"})
    rules = fields.List(fields.Nested(RuleOut))
    templates = fields.List(fields.String())
    audiences = fields.List(fields.String())


# ------------------------------------------------------------------ HR contacts


def hr_contacts(s: Session, agency: str) -> list[HrContact]:
    return list(s.scalars(_HR_CONTACTS, {"agency": agency}))


def replace_hr_contacts(s: Session, p: Principal, agency: str, contacts: list[dict]) -> list[HrContact]:
    errors = []
    for i, c in enumerate(contacts):
        if c.get("email") and not domain.valid_email(c["email"]):
            errors.append(FieldError(f"contacts[{i}].email", "email.invalid"))
        if not c.get("email") and not c.get("nip"):
            errors.append(FieldError(f"contacts[{i}].email", "field.required"))
    if errors:
        raise validation(errors)
    current = hr_contacts(s, agency)
    before = [_contact_dict(c) for c in current]
    for row in current:
        s.delete(row)
    s.flush()
    rows = [
        HrContact(
            agency_code=agency,
            name=c["name"],
            email=c.get("email"),
            nip=c.get("nip"),
            language=c.get("language") or "id",
            created_at=now(),
        )
        for c in contacts
    ]
    s.add_all(rows)
    s.flush()
    record(
        s,
        p,
        "hr_contacts.replaced",
        "hr_contacts",
        agency,
        before=before,
        after=[_contact_dict(c) for c in rows],
        agency=agency,
    )
    return rows


def _contact_dict(c: HrContact) -> dict:
    return {"name": c.name, "email": c.email, "nip": c.nip, "language": c.language}


# ------------------------------------------------------------------ rules


RULES_MEMO = "notifications.rules"  # key in ``Session.info``: each agency's rules, read once per session


def rules_for(s: Session, agency: str) -> list[domain.Rule]:
    """The agency's rules (its own, else the defaults), read once per session: the consumer applies
    a batch of up to 100 events in one session, and reading them for each event of a directory
    import was a sixth of the notifications worker's time. Replacing or resetting them forgets
    what was read."""
    memo = s.info.setdefault(RULES_MEMO, {})
    if agency not in memo:
        rows = s.scalars(_RULES, {"agency": agency}).all()
        memo[agency] = tuple(
            domain.Rule(
                r.event_type,
                r.audience,
                r.template,
                r.enabled,
                {k: tuple(v) for k, v in r.when.items()} if r.when else None,
            )
            for r in rows
        ) or tuple(domain.DEFAULT_RULES)
    return list(memo[agency])


def rules_are_default(s: Session, agency: str) -> bool:
    return s.scalar(select(func.count()).select_from(RuleRow).where(RuleRow.agency_code == agency)) == 0


def replace_rules(s: Session, p: Principal, agency: str, rules: list[dict]) -> list[domain.Rule]:
    parsed = parse_each(rules, domain.rule_from_dict, "rules", "rule")
    before = _delete_rules(s, agency)
    for i, rule in enumerate(parsed):
        s.add(RuleRow(agency_code=agency, position=i, **domain.rule_to_dict(rule)))
    s.flush()
    s.info.pop(RULES_MEMO, None)
    after = [domain.rule_to_dict(r) for r in parsed]
    record(s, p, "notification_rules.replaced", "notification_rules", agency, before=before, after=after, agency=agency)
    return parsed


def reset_rules(s: Session, p: Principal, agency: str) -> list[domain.Rule]:
    before = _delete_rules(s, agency)
    after = [domain.rule_to_dict(r) for r in domain.DEFAULT_RULES]
    record(s, p, "notification_rules.reset", "notification_rules", agency, before=before, after=after, agency=agency)
    return list(domain.DEFAULT_RULES)


def _delete_rules(s: Session, agency: str) -> list[dict]:
    """Delete the agency's own rules; returns the rules in force before (as dicts, for the audit row)."""
    before = [domain.rule_to_dict(r) for r in rules_for(s, agency)]
    for row in s.scalars(select(RuleRow).where(RuleRow.agency_code == agency)):
        s.delete(row)
    s.flush()
    s.info.pop(RULES_MEMO, None)  # a later read in this session reads the rules that follow
    return before


# ------------------------------------------------------------------ views


@blp.route("/hr-contacts")
class HrContacts(MethodView):
    @blp.arguments(AgencyQuery, location="query")
    @blp.response(200, HrContactsOut)
    def get(self, args):
        """Who hears about the agency's HR matters (objections, calibration, IKM, escalations)."""
        _, agency = hr_request(args)
        with uow() as s:
            return {"agency_code": agency, "contacts": hr_contacts(s, agency)}

    @blp.arguments(AgencyQuery, location="query")
    @blp.arguments(HrContactsIn)
    @blp.response(200, HrContactsOut)
    def put(self, args, data):
        """Replace the agency's HR contacts (HR)."""
        p, agency = hr_request(args)
        with uow() as s:
            return {"agency_code": agency, "contacts": replace_hr_contacts(s, p, agency, data["contacts"])}


def _rules_out(s: Session, agency: str) -> dict:
    return {
        "agency_code": agency,
        "default": rules_are_default(s, agency),
        "rules": [domain.rule_to_dict(r) for r in rules_for(s, agency)],
        "templates": list(domain.TEMPLATES),
        "audiences": list(domain.AUDIENCES),
    }


@blp.route("/rules")
class Rules(MethodView):
    @blp.arguments(AgencyQuery, location="query")
    @blp.response(200, RulesOut)
    def get(self, args):
        """Which events notify whom with which template (the defaults until HR edits them)."""
        _, agency = hr_request(args)
        with uow() as s:
            return _rules_out(s, agency)

    @blp.arguments(AgencyQuery, location="query")
    @blp.arguments(RulesIn)
    @blp.response(200, RulesOut)
    def put(self, args, data):
        """Replace the agency's rules (HR)."""
        p, agency = hr_request(args)
        with uow() as s:
            replace_rules(s, p, agency, data["rules"])
            return _rules_out(s, agency)

    @blp.arguments(AgencyQuery, location="query")
    @blp.response(200, RulesOut)
    def delete(self, args):
        """Back to the default rules (HR)."""
        p, agency = hr_request(args)
        with uow() as s:
            reset_rules(s, p, agency)
            return _rules_out(s, agency)
