"""Settings of the notifications service beyond the platform's Config: one typed object, read
once (``services.common.config.load_settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.config import setting

from . import domain


def _delays(value: str) -> tuple[int, ...]:
    return tuple(int(x) for x in value.split(",") if x.strip())


@dataclass
class Settings:
    smtp_url: str | None = setting("SMTP_URL", None)  # smtp://user:pass@host:587?starttls=1 | smtps://host:465
    mail_from: str = setting("MAIL_FROM", "Kinerja <no-reply@kinerja.local>")
    smtp_timeout: float = setting("SMTP_TIMEOUT", 10.0)
    apprise_timeout: float = setting("APPRISE_TIMEOUT", 10.0)
    webhook_timeout: float = setting("WEBHOOK_TIMEOUT", 10.0)
    webhook_allow_private: bool = setting("WEBHOOK_ALLOW_PRIVATE", False)
    webhook_disable_after: int = setting("WEBHOOK_DISABLE_AFTER", 5)  # consecutive deliveries failed on every attempt
    webhook_retry_hours: float = setting("WEBHOOK_RETRY_HOURS", 24.0)
    email_retry_delays: tuple = setting("NOTIFICATIONS_RETRY_DELAYS", domain.EMAIL_RETRY_DELAYS, _delays)
    dispatch_batch: int = setting("NOTIFICATIONS_DISPATCH_BATCH", 200)
    dispatch_interval: float = setting("NOTIFICATIONS_DISPATCH_INTERVAL", 5.0)
    default_timezone: str = setting("NOTIFICATIONS_TIMEZONE", "Asia/Jakarta")
    portal_url: str = setting("PORTAL_URL", "http://127.0.0.1:8000")  # links in messages
    # where the read model is rebuilt from; unset: this server in embedded mode, a 503 in production (no guess)
    plans_url: str | None = setting("PLANS_URL", None)
