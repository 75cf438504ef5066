"""The fuzz engine can fail: on a small app whose OpenAPI lies in each way the suite looks for (a 500, a body
off its schema, another content type, an undocumented success status), each lie is counted and named, and
an honest operation is not."""

from __future__ import annotations

from flask import Flask, Response
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields

from tests.fuzz.support import fuzz, load_schema


class ThingSchema(Schema):
    n = fields.Integer(required=True)
    name = fields.String(required=True)


def liar_app() -> Flask:
    app = Flask("fuzz-engine")
    app.config.update(
        API_TITLE="liar",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/t",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(app)
    blp = Blueprint("things", __name__, url_prefix="/t/api")

    @blp.route("/honest/<int:n>")
    class Honest(MethodView):
        @blp.response(200, ThingSchema)
        def get(self, n):
            return {"n": n, "name": "ok"}

    @blp.route("/crash/<int:n>")
    class Crash(MethodView):
        @blp.response(200, ThingSchema)
        def get(self, n):
            raise RuntimeError("boom")

    @blp.route("/off-schema/<int:n>")
    class OffSchema(MethodView):
        @blp.response(200, ThingSchema)
        def get(self, n):
            return Response('{"n": "not a number"}', mimetype="application/json")

    @blp.route("/text")
    class Text(MethodView):
        @blp.response(200, ThingSchema)
        def get(self):
            return Response("n=1", mimetype="text/plain")

    @blp.route("/created")
    class Created(MethodView):
        @blp.response(200, ThingSchema)
        def post(self):
            return {"n": 1, "name": "new"}, 201

    api.register_blueprint(blp)
    return app


def test_each_kind_of_lie_is_counted_and_named():
    outcome = fuzz(load_schema(liar_app(), "t"), "liar", {"anyone": {}}, budget=40)
    kinds = set(outcome.examples)
    assert any(k.startswith("GET /t/api/crash/{n}: ") for k in kinds), kinds
    assert "GET /t/api/off-schema/{n}: JsonSchemaError" in kinds, kinds
    assert "GET /t/api/text: UndefinedContentType" in kinds, kinds
    assert "POST /t/api/created: UndefinedStatusCode 201" in kinds, kinds
    assert not any(k.startswith("GET /t/api/honest/") for k in kinds), kinds
    assert outcome.cases >= 40 and outcome.server_errors > 0 and outcome.schema_failures > 0
