"""``ObjectSchema`` (services/common/http.py) dumps objects field by field without marshmallow's
lookup chain: its output must be marshmallow's own, value for value — for the plain fields, the
instants (``UtcDateTime``, naive or not), nested lists, ``data_key``/``attribute``, missing
attributes, ``None`` (``tests/plans/test_response_dumps.py``: the plans API's schemas on its rows)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace

from marshmallow import Schema, fields

from services.common.http import ObjectSchema, UtcDateTime


def plain(schema: Schema, obj, many: bool = False):
    """What marshmallow's own ``Schema._serialize`` makes of ``obj`` with the same fields."""
    return Schema._serialize(schema, obj, many=many)


class Child(ObjectSchema):
    id = fields.String()
    value = fields.Float(allow_none=True)


class Parent(ObjectSchema):
    id = fields.Integer()
    name = fields.String(data_key="nama")
    owner = fields.String(attribute="owner_nip")
    day = fields.Date()
    at = UtcDateTime(allow_none=True)
    active = fields.Boolean()
    extra = fields.Dict()
    tags = fields.List(fields.String())
    children = fields.List(fields.Nested(Child))
    absent = fields.String()


def sample(**over):
    values = dict(
        id="7",  # a string for an Integer field: marshmallow's int() makes it 7
        name=123,
        owner_nip="199001012015031004",
        day=date(2026, 1, 5),
        at=datetime(2026, 1, 5, 8, 30),  # naive: said to be UTC
        active=1,
        extra={"a": [1, 2]},
        tags=("x", 5),
        children=[SimpleNamespace(id="c1", value=1), SimpleNamespace(id="c2", value=None)],
    )
    return SimpleNamespace(**(values | over))


def test_object_schema_dumps_as_marshmallow_does():
    schema = Parent()
    for obj in (
        sample(),
        sample(at=datetime(2026, 1, 5, 15, 0, tzinfo=timezone.utc), active=0, children=[]),
        sample(name=None, at=None, day=None, extra=None, tags=None, children=None),
    ):
        fast = schema.dump(obj)
        assert fast == plain(schema, obj)
        assert list(fast) == list(plain(schema, obj))  # the same keys in the same order
        assert "absent" not in fast and fast["nama"] == plain(schema, obj)["nama"]
    many = [sample(), sample(id=8)]
    assert schema.dump(many, many=True) == plain(schema, many, many=True)
    assert Parent(many=True).dump(many) == [plain(schema, o) for o in many]
    assert schema.dump(sample())["at"] == "2026-01-05T08:30:00+00:00"


def test_a_mapping_and_an_unplannable_schema_take_marshmallows_path():
    schema = Parent()
    as_dict = vars(sample())
    assert schema.dump(as_dict) == plain(schema, as_dict)

    class WithDefault(ObjectSchema):
        id = fields.Integer()
        kind = fields.String(dump_default="feedback")

    assert WithDefault().dump(SimpleNamespace(id=1)) == {"id": 1, "kind": "feedback"}

    class WithMethod(ObjectSchema):
        id = fields.Integer()
        label = fields.Method("make_label")

        def make_label(self, obj):
            return f"#{obj.id}"

    assert WithMethod().dump(SimpleNamespace(id=3)) == {"id": 3, "label": "#3"}

    class Computed(fields.Date):
        def get_value(self, obj, attr, accessor=None, default=None):
            return None if obj.base is None else obj.base.replace(day=28)

    class WithComputed(ObjectSchema):
        id = fields.Integer()
        last = Computed(allow_none=True)

    for obj in (SimpleNamespace(id=4, base=date(2026, 2, 3)), SimpleNamespace(id=5, base=None)):
        assert WithComputed().dump(obj) == plain(WithComputed(), obj)
    assert WithComputed().dump(SimpleNamespace(id=4, base=date(2026, 2, 3)))["last"] == "2026-02-28"
