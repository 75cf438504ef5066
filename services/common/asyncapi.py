"""The event contract as an AsyncAPI 3.0 document, generated from the same marshmallow schemas as
the Markdown catalogue (``catalogue.py``): one channel per event type — its address the routing
key on the durable topic exchange ``kinerja.events`` (AMQP 0-9-1 binding) — whose message is the
CloudEvents 1.0 structured-mode envelope (``application/cloudevents+json``) with the payload
schema as its ``data``; one ``send`` operation per type, by the service that publishes it.

Each service serves the document of what it publishes at ``/<service>/asyncapi.json``;
``kinerja events asyncapi`` writes the whole platform's to ``docs/asyncapi.json``."""

from __future__ import annotations

import re

from .bus.topology import CONTENT_TYPE, DATACONTENTTYPE, EXCHANGE, SPECVERSION
from .catalogue import EventSpec, json_schemas

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"


def _key(event_type: str) -> str:
    """An AsyncAPI component key (``^[a-zA-Z0-9.\\-_]+$``) for an event type."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", event_type)


def envelope_schema() -> dict:
    """The CloudEvents 1.0 envelope as Kinerja writes it (``bus/envelope.make_event``)."""
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data"],
        "properties": {
            "specversion": {"type": "string", "const": SPECVERSION},
            "id": {"type": "string", "format": "uuid", "description": "the idempotency key for consumers"},
            "source": {"type": "string", "description": "/<service>, the producer", "examples": ["/reviews"]},
            "type": {"type": "string", "description": "the event type, also the routing key"},
            "time": {"type": "string", "format": "date-time", "description": "RFC 3339, UTC"},
            "subject": {"type": "string", "description": "the id of the entity the event is about"},
            "datacontenttype": {"type": "string", "const": DATACONTENTTYPE},
            "traceparent": {"type": "string", "description": "W3C Trace Context"},
            "data": {"type": "object"},
        },
    }


def document(specs: list[EventSpec], *, title: str, description: str, version: str = "1") -> dict:
    """The AsyncAPI 3.0 document of ``specs`` (what one service, or the platform, publishes)."""
    schemas = json_schemas(specs)
    components = schemas.pop("__components__")
    channels, operations, messages = {}, {}, {}
    for ev in specs:
        key = _key(ev.type)
        payload = envelope_schema()
        payload["properties"] = payload["properties"] | {
            "type": {"type": "string", "const": ev.type},
            "source": {"type": "string", "const": f"/{ev.producer}"},
            "data": {"$ref": f"#/components/schemas/{ev.schema.__name__}"},
        }
        messages[key] = {
            "name": ev.type,
            "title": ev.type,
            "summary": ev.description,
            "contentType": CONTENT_TYPE,
            "payload": payload,
        }
        channels[key] = {
            "address": ev.type,
            "description": f"{ev.description} Consumers: {', '.join(ev.consumers) or 'none inside Kinerja'}.",
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {"name": EXCHANGE, "type": "topic", "durable": True, "autoDelete": False},
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
        operations[f"publish.{key}"] = {
            "action": "send",
            "summary": f"{ev.producer} publishes {ev.type}",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": AMQP_BINDING_VERSION}},
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "broker": {
                "host": "rabbitmq:5672",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": f"The agency's RabbitMQ; events are persistent messages on the topic exchange "
                f"'{EXCHANGE}', routing key = type. Agencies outside receive the same envelopes as webhooks.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": components, "messages": messages},  # marshmallow's $refs point here too
    }
