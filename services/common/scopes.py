"""The scopes that open an endpoint to a machine client, one mechanism for every service.

A machine client (:attr:`Principal.is_machine`: role ``agency``, no NIP, not HR or admin) carries
OAuth 2.0 scopes in its token's ``scope`` claim. An operation declares the scopes that open it::

    @blp.route("/things")
    class Things(MethodView):
        @accepts("things:read")
        @blp.response(200, ThingSchema(many=True))
        def get(self): ...

- **enforced** for every request of the API (``/<service>/api/``, outside the public paths): a
  machine client needs one of the operation's scopes, else 403 ``auth.scope_missing`` naming them
  (``scopes``); an operation that declares none refuses every machine client the same way
  (``scopes: []``). What the operation then allows (its own agency only, …) is the service's rule.
- **documented** in the OpenAPI: the operation's ``security`` is ``bearer`` or the
  ``clientCredentials`` scheme (OAuth 2.0 client credentials) with its scopes, and the scheme
  lists every scope the service's operations declare, with the operations each opens.

People's tokens are unaffected: their roles decide, whatever ``scope`` they carry."""

from __future__ import annotations

from copy import deepcopy

from flask import Flask, request

from .auth import Principal
from .errors import Problem

SCHEME = "clientCredentials"
_ATTR = "_kinerja_scopes"
TOKEN_URL_PLACEHOLDER = "https://idp.example/token"


def accepts(*scopes: str):
    """Declare the scopes that open a view (a MethodView method or a view function) to machine
    clients; any one of them suffices."""
    if not scopes or not all(isinstance(s, str) and s and " " not in s for s in scopes):
        raise ValueError("accepts() takes one or more scope names without spaces")

    def mark(fn):
        setattr(fn, _ATTR, tuple(scopes))
        doc = deepcopy(getattr(fn, "_apidoc", {}))
        doc.setdefault("manual_doc", {})["security"] = [{"bearer": []}, {SCHEME: list(scopes)}]
        fn._apidoc = doc
        return fn

    return mark


def declared(fn) -> tuple[str, ...]:
    return getattr(fn, _ATTR, ())


def view_method(app: Flask, endpoint: str | None, method: str):
    """The function that answers ``method`` on ``endpoint``: a MethodView's method, or the view."""
    view = app.view_functions.get(endpoint or "")
    cls = getattr(view, "view_class", None)
    if cls is None:
        return view
    name = method.lower()
    return getattr(cls, name, None) or (getattr(cls, "get", None) if name == "head" else None)


def check(app: Flask, principal: Principal) -> None:
    """403 ``auth.scope_missing`` when a machine client holds none of the scopes that open the
    request's operation (no route matched: left to the 404/405 that follows)."""
    if not principal.is_machine or request.url_rule is None:
        return
    wanted = declared(view_method(app, request.endpoint, request.method))
    if not principal.has_scope(*wanted):
        raise Problem(403, "auth.scope_missing", scopes=list(wanted), required=" ".join(wanted) or "-")


def opened(app: Flask, api_prefix: str) -> dict[str, list[str]]:
    """``{scope: ["METHOD rule", …]}``: the API operations each declared scope opens."""
    out: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(api_prefix):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for scope in declared(view_method(app, rule.endpoint, method)):
                out.setdefault(scope, []).append(f"{method} {rule.rule}")
    return {s: sorted(ops) for s, ops in sorted(out.items())}


def document(api, app: Flask, api_prefix: str, token_url: str | None) -> None:
    """The ``clientCredentials`` security scheme (OAuth 2.0 client credentials) beside ``bearer``,
    with the scopes this service's operations declare."""
    scopes = {s: "Opens " + ", ".join(ops) for s, ops in opened(app, api_prefix).items()}
    api.spec.components.security_scheme(
        SCHEME,
        {
            "type": "oauth2",
            "description": "Machine clients of an agency (role agency): a token from the identity provider's "
            "client credentials grant, with the scopes the operation names. People use bearer.",
            "flows": {"clientCredentials": {"tokenUrl": token_url or TOKEN_URL_PLACEHOLDER, "scopes": scopes}},
        },
    )
