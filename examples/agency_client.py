"""A reference client: another agency's system — say the regional finance office's allowance (TPP)
system — reading Kinerja's final results without a person in between.

1. It gets a token by OAuth 2.0 client credentials (its own client id and secret, no person).
2. Once, it subscribes a webhook to ``reviews.result.*`` and keeps the secret shown that one time.
3. It pulls the results feed: everything the first time, afterwards only what changed since the
   ``changed_at`` it kept (following ``next_cursor`` to the end before keeping it).
4. It listens for deliveries, verifies each with the ``standardwebhooks`` library (a delivery that
   does not verify is refused with 400) and takes a verified one as the cue to pull again: the
   event says that something changed, the feed says what, in order and without gaps.

Its state (the webhook and its secret, the last ``changed_at``, the results) is a small JSON file.
Against ``make up``, which prints the client's id and secret:

    KINERJA_CLIENT_ID=tpp-demo KINERJA_CLIENT_SECRET=… .venv/bin/python examples/agency_client.py
"""

import json
import os
import signal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

KINERJA = os.environ.get("KINERJA_URL", "http://127.0.0.1:8080")  # the gateway
TOKEN_URL = os.environ.get("KINERJA_TOKEN_URL", "http://127.0.0.1:18190/token")  # the identity provider
CLIENT = (os.environ["KINERJA_CLIENT_ID"], os.environ["KINERJA_CLIENT_SECRET"])
PORT = int(os.environ.get("RECEIVER_PORT", "8900"))  # where this client listens for deliveries
RECEIVER_URL = os.environ.get("RECEIVER_URL", f"http://127.0.0.1:{PORT}/kinerja")  # as Kinerja reaches it
STATE = Path(os.environ.get("CLIENT_STATE", "agency-client.json"))
state = json.loads(STATE.read_text()) if STATE.exists() else {"results": {}}


def kinerja() -> httpx.Client:
    """An HTTP client for Kinerja's APIs with a fresh token (client credentials)."""
    r = httpx.post(TOKEN_URL, data={"grant_type": "client_credentials"}, auth=CLIENT, timeout=30)
    r.raise_for_status()
    return httpx.Client(base_url=KINERJA, headers={"Authorization": f"Bearer {r.json()['access_token']}"}, timeout=30)


def save() -> None:
    STATE.write_text(json.dumps(state, indent=2))
    STATE.chmod(0o600)  # it holds the webhook's secret


def subscribe() -> None:
    """Once: a webhook for the results' events. Its secret is shown only in this answer: keep it."""
    if "webhook" in state:
        return
    body = {"url": RECEIVER_URL, "event_types": ["reviews.result.*"], "description": "TPP: final results"}
    with kinerja() as api:
        r = api.post("/notifications/api/v1/webhooks", json=body)
    r.raise_for_status()  # a 422 is problem+json: r.json()["errors"] names the field
    state["webhook"] = {"id": r.json()["id"], "secret": r.json()["secret"]}
    save()
    print(f"subscribed: webhook {r.json()['id']} posts to {RECEIVER_URL}", flush=True)


def pull() -> None:
    """The feed since the last pull (all of it the first time), page by page; each item is an upsert."""
    since = state.get("changed_at")
    params = {"limit": 200, **({"changed_since": since} if since else {})}
    count = 0
    with kinerja() as api:
        while True:
            r = api.get("/reviews/api/v1/results", params=params)
            r.raise_for_status()
            for item in r.json()["items"]:
                state["results"][str(item["evaluation_id"])] = item  # your system: pay on item["predikat"]
                state["changed_at"] = item["changed_at"]
                count += 1
                objection = item["objection"]["status"]
                print(
                    f"result: {item['employee_nip']} {item['period_name']} {item['predikat']} ({objection})", flush=True
                )
            if not r.json()["next_cursor"]:
                break
            params["cursor"] = r.json()["next_cursor"]
    save()  # only after the walk reached the end: a pull that failed halfway is simply run again
    print(f"pulled: {count} result(s) changed since {since or 'the beginning'}", flush=True)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:  # the signature covers webhook-id, webhook-timestamp (at most 5 minutes off) and the body
            event = Webhook(state["webhook"]["secret"]).verify(body, dict(self.headers))
        except WebhookVerificationError as exc:
            print(f"refused: a delivery that does not verify ({exc})", flush=True)
            return self.answer(400)
        self.answer(204)  # answer at once; Kinerja retries a delivery that fails or times out
        print(f"verified: {event['type']} {event['id']} for {event['data']['employee_nip']}", flush=True)
        try:  # the same event may come twice (retries): pulling again is harmless
            pull()
        except httpx.HTTPError as exc:  # Kinerja unreachable for a moment: the next delivery or run catches up
            print(f"pull failed: {exc}", flush=True)

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # no access lines: the prints above say what happened
        pass


if __name__ == "__main__":
    # Ctrl-C (SIGINT) stops it even when started from a background job, which inherits SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    server = HTTPServer(("127.0.0.1", PORT), Receiver)  # listening already: no delivery is lost meanwhile
    subscribe()
    pull()
    print(f"listening: deliveries on port {PORT} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
