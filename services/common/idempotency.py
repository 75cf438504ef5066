"""``Idempotency-Key`` on POST: the first response is stored and replayed for the same key.

Same key + same body → the stored response (header ``Idempotent-Replayed: true``);
same key while the first is still running → 409; same key + another body → 422.
Only successful (2xx) responses are kept; a failed attempt frees the key for a retry.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask, Response, current_app, g, request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .errors import FieldError, Problem

HEADER = "Idempotency-Key"
STALE_AFTER = timedelta(minutes=5)


def install(app: Flask) -> None:
    @app.before_request
    def _begin():
        if request.method != "POST":
            return None
        key = request.headers.get(HEADER)
        if not key:
            return None
        if len(key) > 200:
            raise Problem(422, "validation", errors=[FieldError(HEADER, "idempotency.too_long")])
        platform = current_app.extensions["kinerja"]
        principal = getattr(g, "principal", None)
        who = principal.sub if principal else f"anon:{request.remote_addr}"
        digest = hashlib.sha256(
            b"\0".join([request.method.encode(), request.full_path.encode(), request.get_data(cache=True)])
        ).hexdigest()
        t = platform.tables.idempotency
        now = platform.clock()
        with platform.session_factory() as s:
            try:
                res = s.execute(
                    insert(t).values(
                        principal=who,
                        key=key,
                        method=request.method,
                        path=request.path,
                        request_hash=digest,
                        state="in_flight",
                        created_at=now,
                    )
                )
                s.commit()
                g.idempotency_row = res.inserted_primary_key[0]
                return None
            except IntegrityError:
                s.rollback()
            row = s.execute(select(t).where(t.c.principal == who, t.c.key == key)).mappings().first()
            if row is None:  # freed concurrently; let the client retry
                raise Problem(409, "idempotency.in_flight")
            if row["request_hash"] != digest or row["path"] != request.path:
                raise Problem(422, "validation", errors=[FieldError(HEADER, "idempotency.mismatch")])
            if row["state"] == "in_flight":
                created = row["created_at"]
                if created.tzinfo is None:
                    created = created.replace(tzinfo=now.tzinfo)
                if now - created < STALE_AFTER:
                    raise Problem(409, "idempotency.in_flight")
                s.execute(update(t).where(t.c.id == row["id"]).values(created_at=now))
                s.commit()
                g.idempotency_row = row["id"]
                return None
            resp = Response(row["response_body"], status=row["status_code"])
            for k, v in (row["response_headers"] or {}).items():
                resp.headers[k] = v
            resp.headers["Idempotent-Replayed"] = "true"
            return resp

    @app.after_request
    def _finish(response: Response):
        row_id = g.pop("idempotency_row", None)
        if row_id is None:
            return response
        platform = current_app.extensions["kinerja"]
        t = platform.tables.idempotency
        with platform.session_factory() as s:
            if 200 <= response.status_code < 300 and not response.direct_passthrough:
                keep = {k: v for k, v in response.headers.items() if k in ("Content-Type", "Location", "ETag")}
                s.execute(
                    update(t)
                    .where(t.c.id == row_id)
                    .values(
                        state="done",
                        status_code=response.status_code,
                        response_body=response.get_data(),
                        response_headers=keep,
                    )
                )
            else:
                s.execute(delete(t).where(t.c.id == row_id))
            s.commit()
        return response

    @app.teardown_request
    def _abandon(exc):
        row_id = g.pop("idempotency_row", None)
        if row_id is not None:
            platform = current_app.extensions["kinerja"]
            with platform.session_factory() as s:
                s.execute(delete(platform.tables.idempotency).where(platform.tables.idempotency.c.id == row_id))
                s.commit()
