"""What the deployment tests share: reading the Dockerfile (Docker's own parser), the
.dockerignore rules, compose interpolation, the environment each process gets, the commands the
containers run, the variables the code reads, and building the apps with a given environment.

No container engine runs here (ENGINEERING.md, "Deployment checks without a container engine"):
these helpers let the tests do what the image, compose and Kubernetes would do, and cross-check
the files with the code."""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "deploy" / "compose.yaml"
K8S = ROOT / "deploy" / "k8s"
REALM = ROOT / "deploy" / "keycloak" / "kinerja-realm.json"
GATEWAY_TEMPLATE = ROOT / "deploy" / "gateway" / "kinerja.conf.template"
GUNICORN_CONF = ROOT / "kinerja" / "gunicorn_conf.py"
README = ROOT / "README.md"

SERVICES = ("plans", "reviews", "surveys", "notifications")
WEB_APPS = SERVICES + ("portal",)
WEB_PORT = 8000


# ---------------------------------------------------------------------------------- Dockerfile


def dockerfile_commands():
    import dockerfile

    return dockerfile.parse_file(str(DOCKERFILE))


def dockerfile_stages() -> list[dict]:
    """``[{"name", "base", "commands": [...]}]`` in order (``FROM x AS name`` starts a stage)."""
    stages: list[dict] = []
    for cmd in dockerfile_commands():
        if cmd.cmd.upper() == "FROM":
            value = list(cmd.value)
            name = value[2] if len(value) >= 3 and value[1].upper() == "AS" else None
            stages.append({"name": name, "base": value[0], "commands": []})
        elif stages:
            stages[-1]["commands"].append(cmd)
    return stages


def dockerfile_args() -> dict[str, str]:
    """Global ``ARG name=default`` (before the first FROM)."""
    args = {}
    for cmd in dockerfile_commands():
        if cmd.cmd.upper() == "FROM":
            break
        if cmd.cmd.upper() == "ARG":
            for item in cmd.value:
                name, _, default = item.partition("=")
                args[name] = default
    return args


def stage(name: str) -> dict:
    for s in dockerfile_stages():
        if s["name"] == name:
            return s
    raise AssertionError(f"the Dockerfile has no stage {name!r}")


def runtime_stage() -> dict:
    return dockerfile_stages()[-1]


def stage_env(s: dict) -> dict[str, str]:
    env: dict[str, str] = {}
    for cmd in s["commands"]:
        if cmd.cmd.upper() == "ENV":
            values = list(cmd.value)
            for key, value in zip(values[0::2], values[1::2]):
                env[key] = _unquote(value)
    return env


def image_env() -> dict[str, str]:
    """The ENV of the image every Kinerja container runs."""
    return stage_env(runtime_stage())


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def runs(s: dict) -> list[str]:
    """The shell command of each RUN of a stage (flags such as --mount stripped)."""
    return [" ".join(cmd.value) for cmd in s["commands"] if cmd.cmd.upper() == "RUN"]


def pip_run(s: dict, verb: str) -> list[str]:
    """The argv of the one ``pip <verb>`` RUN line of a stage (it must be a command of its own,
    not part of a ``&&`` chain, so the tests can run exactly it)."""
    found = [r for r in runs(s) if re.match(rf"^(python3? -m )?pip {verb}\b", r.strip())]
    assert len(found) == 1, f"expected one `pip {verb}` RUN in stage {s['name']!r}, found {found}"
    text = found[0]
    assert "&&" not in text and ";" not in text, f"keep `pip {verb}` a RUN of its own: {text}"
    argv = shlex.split(text)
    if argv[0].startswith("python"):
        argv = argv[2:]
    return argv


def healthcheck_argv() -> list[str]:
    cmds = [c for c in runtime_stage()["commands"] if c.cmd.upper() == "HEALTHCHECK"]
    assert len(cmds) == 1, "the runtime stage needs one HEALTHCHECK"
    cmd = cmds[0]
    assert cmd.json, "HEALTHCHECK CMD in exec (JSON) form: no shell in the way"
    value = list(cmd.value)
    assert value[0].upper() == "CMD", value
    return value[1:]


def image_user() -> str:
    users = [c.value[0] for c in runtime_stage()["commands"] if c.cmd.upper() == "USER"]
    assert users, "the runtime stage must switch to a non-root USER"
    return users[-1]


# ---------------------------------------------------------------------------------- .dockerignore


def _pattern_regex(pattern: str) -> re.Pattern:
    """Docker's .dockerignore pattern (Go's filepath.Match plus ``**``) as a regular expression
    over a slash-separated path relative to the context."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out += "(?:.*/)?"
                i += 1
            else:
                out += ".*"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.index("]", i)
            body = pattern[i + 1 : end]
            out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")


def dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line[1:].strip() if negated else line).lstrip("/")
        rules.append((negated, _pattern_regex(pattern)))
    return rules


def dockerignored(rel: str, rules=None) -> bool:
    """Whether the build context leaves ``rel`` out: the last rule matching the path or one of its
    parent directories decides (moby's patternmatcher)."""
    rules = dockerignore_rules() if rules is None else rules
    parts = rel.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negated
    return excluded


def build_context(dest: Path) -> list[str]:
    """Copy what `docker build` would send (the context after .dockerignore) to ``dest``."""
    rules = dockerignore_rules()
    sent = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".git/", ".venv/")) or rel in (".git", ".venv") or not path.is_file():
            continue
        if dockerignored(rel, rules):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        sent.append(rel)
    return sent


# ---------------------------------------------------------------------------------- compose

_VAR = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
    ``${VAR-default}``, ``${VAR:?message}``, ``${VAR?message}``."""

    def sub(m: re.Match) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        op, arg = m.group(3), m.group(4) or ""
        value = env.get(name)
        if op in (":-", ":?"):
            unset = value in (None, "")
        else:
            unset = value is None
        if not unset:
            return value
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            raise MissingVariable(name, arg)
        return ""

    return _VAR.sub(sub, text)


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for x in node:
            yield from _strings(x)
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)


def compose_variables() -> dict[str, dict]:
    """Every variable the compose file interpolates (in its values, not its comments):
    ``{name: {"required": message|None, "default": str|None}}``."""
    found: dict[str, dict] = {}
    for text in _strings(_compose_raw()):
        for m in _VAR.finditer(text):
            if m.group(1):
                continue
            name = m.group(2) or m.group(5)
            entry = found.setdefault(name, {"required": None, "default": None})
            if m.group(3) in (":?", "?"):
                entry["required"] = m.group(4)
            elif m.group(3) in (":-", "-"):
                entry["default"] = m.group(4)
    return found


def sample_value(name: str) -> str:
    """A value for a required variable: letters and digits (they go into URLs)."""
    return "t0" + re.sub(r"[^a-z0-9]", "", name.lower())


def compose_sample_env() -> dict[str, str]:
    return {name: sample_value(name) for name, v in compose_variables().items() if v["required"] is not None}


def _interpolate_tree(node, env):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolate_tree(x, env) for x in node]
    if isinstance(node, dict):
        return {k: _interpolate_tree(v, env) for k, v in node.items()}
    return node


@functools.lru_cache(maxsize=None)
def _compose_raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def compose(env: dict[str, str] | None = None) -> dict:
    """The compose file, parsed (anchors and merge keys resolved) and interpolated with ``env``
    (default: a test value for every required variable, the defaults for the rest)."""
    return _interpolate_tree(_compose_raw(), compose_sample_env() if env is None else env)


def service_environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def is_kinerja_image(service: dict) -> bool:
    return "build" in service or str(service.get("image", "")).startswith("kinerja")


def compose_process_env(service: dict) -> dict[str, str]:
    """The environment of the process in a compose container: the image's ENV, then the service's."""
    base = image_env() if is_kinerja_image(service) else {}
    return {**base, **service_environment(service)}


def argv(command) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(x) for x in command]


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


# ---------------------------------------------------------------------------------- processes


def process_kind(args: list[str]) -> tuple[str, str | None]:
    """What a container runs: ``("web", app)``, ``("worker", service)``, ``("migrate", None)``,
    ``("flows-deploy", None)``, ``("prefect-server", None)``, ``("prefect-worker", None)`` or
    ``("other", None)``."""
    if not args:
        return ("other", None)
    if args[0] == "gunicorn":
        app = gunicorn_app_spec(args)
        m = re.fullmatch(r"services\.(\w+)\.app:create_app\(\)", app or "")
        return ("web", m.group(1) if m else None)
    if args[:2] == ["kinerja", "worker"]:
        service = args[args.index("--service") + 1] if "--service" in args else None
        return ("worker", service)
    if args[:3] == ["kinerja", "db", "upgrade"]:
        return ("migrate", None)
    if args[:3] == ["kinerja", "flows", "deploy"]:
        return ("flows-deploy", None)
    if args[:3] == ["prefect", "server", "start"]:
        return ("prefect-server", None)
    if args[:3] == ["prefect", "worker", "start"]:
        return ("prefect-worker", None)
    return ("other", None)


KINERJA_BASE = (
    "KINERJA_MODE",
    "DATABASE_URL",
    "BROKER_URL",
    "JWT_JWKS_URL",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "PROXY_HOPS",
    "LOG_LEVEL",
)
GUNICORN = ("BIND", "WEB_CONCURRENCY", "THREADS", "PROMETHEUS_MULTIPROC_DIR")
PER_SERVICE = {
    "plans": (),
    "reviews": ("PLANS_URL",),
    "surveys": ("SURVEYS_FORM_SECRET", "SURVEYS_PUBLIC_URL"),
    "notifications": ("PORTAL_URL", "SMTP_URL", "MAIL_FROM"),
}
PORTAL = (
    "KINERJA_MODE",
    "DATABASE_URL",
    "PORTAL_API_URL",
    "PORTAL_SECRET_KEY",
    "PORTAL_OIDC_METADATA_URL",
    "PORTAL_OIDC_CLIENT_ID",
    "PORTAL_OIDC_CLIENT_SECRET",
    "PROXY_HOPS",
    "LOG_LEVEL",
)


def required_env(kind: str, name: str | None) -> tuple[str, ...]:
    """The contract: what each process must be given in production (issue 12). ``SMTP_URL`` may be
    empty (e-mail is then only logged); everything else must be non-empty."""
    if kind == "web" and name == "portal":
        return PORTAL + GUNICORN
    if kind == "web":
        return KINERJA_BASE + GUNICORN + PER_SERVICE[name]
    if kind == "worker":
        return KINERJA_BASE + PER_SERVICE[name]
    if kind == "migrate":
        return KINERJA_BASE + ("DATABASE_APP_ROLE",)  # the role it grants; the services connect as it
    if kind == "flows-deploy":
        return ("PREFECT_API_URL", "KINERJA_BASE_URL")
    if kind == "prefect-worker":
        # the query interval: a flow run HR starts begins within seconds, not Prefect's default 10
        return ("PREFECT_API_URL", "KINERJA_BASE_URL", "KINERJA_FLOW_STALE_DAYS", "PREFECT_WORKER_QUERY_SECONDS")
    if kind == "prefect-server":
        return ("PREFECT_SERVER_DATABASE_CONNECTION_URL",)
    return ()


MAY_BE_EMPTY = {"SMTP_URL"}


def missing_env(kind: str, name: str | None, env: dict[str, str]) -> list[str]:
    missing = [v for v in required_env(kind, name) if v not in env or (env[v] == "" and v not in MAY_BE_EMPTY)]
    if kind == "prefect-worker" and not env.get("KINERJA_TOKEN"):
        # a static token, or client credentials at the identity provider (flows/client.py)
        missing += [v for v in ("KINERJA_TOKEN_URL", "KINERJA_CLIENT_ID", "KINERJA_CLIENT_SECRET") if not env.get(v)]
    return missing


# Who may connect to PostgreSQL as the tables' owner: the migration (it creates, migrates and
# grants) and the Prefect server (its own database, outside Kinerja's).
OWNER_KINDS = ("migrate", "prefect-server")


def check_database_roles(processes: dict[str, tuple[tuple[str, str | None], dict[str, str]]]) -> dict[str, str]:
    """The split of issue 14: ``processes`` is ``{name: ((kind, app), environment)}``. The one
    migration connects as the owner and names ``DATABASE_APP_ROLE``; every service, worker and the
    portal connect as that role (every ``*DATABASE_URL`` they get), on the migration's server, with
    ``DATABASE_APP_PASSWORD`` when the migration sets it; no other process connects as the owner.
    Returns ``{"owner", "app_role", "server", "as_app": [names], "as_owner": [names]}``."""
    import re as _re

    from sqlalchemy.engine import make_url

    def pg_urls(env):
        for var, value in env.items():
            if var.endswith("DATABASE_URL") or var == "PREFECT_SERVER_DATABASE_CONNECTION_URL":
                if value.startswith("postgresql"):
                    yield var, make_url(value)

    migrations = [(name, env) for name, ((kind, _), env) in processes.items() if kind == "migrate"]
    assert len(migrations) == 1, f"one migration: {[n for n, _ in migrations]}"
    mig_name, mig = migrations[0]
    owner_url = make_url(mig["DATABASE_URL"])
    owner, role = owner_url.username, mig.get("DATABASE_APP_ROLE", "")
    assert _re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role), f"{mig_name}: DATABASE_APP_ROLE={role!r}"
    assert owner and role != owner, f"{mig_name}: the app role must not be the owner {owner!r}"
    password = mig.get("DATABASE_APP_PASSWORD")
    served, as_app, as_owner = set(), [], []
    for name, ((kind, app), env) in processes.items():
        urls = dict(pg_urls(env))
        if kind in ("web", "worker"):
            assert "DATABASE_URL" in urls, f"{name}: no PostgreSQL DATABASE_URL"
            for var, url in urls.items():
                assert url.username == role, f"{name}: {var} connects as {url.username!r}, not {role!r}"
                assert (url.host, url.port) == (owner_url.host, owner_url.port), (
                    f"{name}: {var} is on another server than the migration's, where {role} is created and granted"
                )
                if password is not None:
                    assert url.password == password, (
                        f"{name}: {var}'s password is not {mig_name}'s DATABASE_APP_PASSWORD"
                    )
            served.add(app)
            as_app.append(name)
        elif kind not in OWNER_KINDS:
            for var, url in urls.items():
                assert url.username != owner, f"{name} ({kind}): {var} connects as the owner {owner!r}"
        if any(url.username == owner for url in urls.values()):
            as_owner.append(name)
    assert served == set(WEB_APPS), f"connect as {role}: {sorted(served)}"
    return {
        "owner": owner,
        "app_role": role,
        "server": f"{owner_url.host}:{owner_url.port}",
        "as_app": sorted(as_app),
        "as_owner": sorted(as_owner),
    }


def url_host_port(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    default = {
        "http": 80,
        "https": 443,
        "amqp": 5672,
        "postgresql": 5432,
        "postgresql+asyncpg": 5432,
        "postgresql+psycopg": 5432,
        "smtp": 587,
        "smtps": 465,
    }.get(parts.scheme)
    try:
        return parts.hostname, parts.port or default
    except ValueError:
        return parts.hostname, None


def bind_port(env: dict[str, str]) -> int:
    return int(env.get("BIND", "127.0.0.1:8000").rpartition(":")[2])


# ---------------------------------------------------------------------------------- commands


def gunicorn_args(args: list[str]):
    from gunicorn.config import Config

    return Config(prog="gunicorn").parser().parse_args(args[1:])


def gunicorn_app_spec(args: list[str]) -> str | None:
    parsed = gunicorn_args(args)
    return parsed.args[0] if parsed.args else None


def click_leaf(args: list[str]):
    """The ``kinerja`` click command ``args`` names, and the arguments left for it."""
    import click

    from kinerja.cli import main

    assert args and args[0] == "kinerja", args
    cmd, rest, path = main, list(args[1:]), ["kinerja"]
    while isinstance(cmd, click.Group):
        assert rest and rest[0] in cmd.commands, (
            f"`{' '.join(path)}` has no command {rest[0] if rest else '(none)'!r}; it has {sorted(cmd.commands)}"
        )
        path.append(rest[0])
        cmd = cmd.commands[rest.pop(0)]
    return cmd, rest


def check_kinerja_commands(commands: list[tuple[list[str], dict[str, str]]]) -> None:
    """Parse each ``kinerja`` command line with the real click CLI, in its process's environment
    (options read from environment variables count), without running it; in a child process,
    so the environment is exactly the container's."""
    from kinerja import registry

    for args, _ in commands:
        click_leaf(args)  # a clear message for a missing (sub)command
        if args[:2] == ["kinerja", "worker"]:
            service = args[args.index("--service") + 1]
            assert service in registry.SERVICES, f"kinerja worker --service {service}: not one of {registry.SERVICES}"
    results = in_child([{"type": "click", "args": args, "env": env} for args, env in commands])
    failed = [f"`{' '.join(args)}`: {r['error']}" for (args, _), r in zip(commands, results) if not r["ok"]]
    assert not failed, "\n".join(failed)


def check_kinerja_command(args: list[str], env: dict[str, str]) -> None:
    check_kinerja_commands([(args, env)])


def check_gunicorn_command(args: list[str]) -> str:
    """The config module loads and the app spec names a callable ``create_app`` (``module:create_app()``)."""
    import importlib

    parsed = gunicorn_args(args)
    assert parsed.config and parsed.config.startswith("python:"), f"gunicorn -c python:<module>: {args}"
    module = parsed.config.split(":", 1)[1]
    assert importlib.util.find_spec(module) is not None, f"gunicorn config module {module} not found"
    assert len(parsed.args) == 1, f"one app spec: {args}"
    spec = parsed.args[0]
    m = re.fullmatch(r"([\w.]+):(\w+)\(\)", spec)
    assert m, f"app spec {spec!r} is not 'module:factory()'"
    factory = getattr(importlib.import_module(m.group(1)), m.group(2), None)
    assert m.group(2) == "create_app" and callable(factory), f"{spec}: no callable create_app"
    return module


@functools.lru_cache(maxsize=None)
def prefect_help(*subcommand: str) -> str:
    """``prefect <subcommand> --help`` of the project's Prefect (the one the image installs)."""
    exe = Path(sys.executable).with_name("prefect")
    proc = subprocess.run(
        [str(exe), *subcommand, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PREFECT_HOME": str(Path(os.environ.get("TMPDIR", "/tmp")) / "kinerja-prefect-help"),
            "DO_NOT_TRACK": "1",
            "COLUMNS": "200",
        },
    )
    assert proc.returncode == 0, f"prefect {' '.join(subcommand)} --help: {proc.stderr[-2000:]}"
    return proc.stdout


def check_prefect_command(args: list[str]) -> None:
    sub = [a for a in args[1:3]]
    text = prefect_help(*sub)
    for flag in (a.split("=", 1)[0] for a in args[3:] if a.startswith("--")):
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), f"`prefect {' '.join(sub)}` has no {flag}"


@functools.lru_cache(maxsize=None)
def prefect_setting_names() -> frozenset[str]:
    """Every environment variable Prefect's settings accept (canonical names and aliases)."""
    from prefect.settings import Settings
    from pydantic import AliasChoices
    from pydantic_settings import BaseSettings

    names: set[str] = set()

    def walk(model):
        prefix = model.model_config.get("env_prefix", "")
        for name, f in model.model_fields.items():
            if isinstance(f.annotation, type) and issubclass(f.annotation, BaseSettings):
                walk(f.annotation)
                continue
            names.add((prefix + name).upper())
            alias = f.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(c.upper() for c in alias.choices if isinstance(c, str))
            elif isinstance(alias, str):
                names.add(alias.upper())

    walk(Settings)
    return frozenset(names)


# ---------------------------------------------------------------------------------- the code's variables

_READS = [
    re.compile(r"""\bos\.(?:environ\.get|getenv|environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]+)["']"""),
    re.compile(r"""\bos\.environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]"""),
    re.compile(
        r"""\b\w+\(\s*env\s*,\s*["']([A-Z][A-Z0-9_]+)["']"""
    ),  # settings helpers: _env(env, "X"), env_int(env, "X")
    re.compile(
        r"""\b_(?:int|float|bool|flag|days|seconds|str)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    ),  # _int("X") of os.environ
    re.compile(r"""\benvvar\s*=\s*[(\[]?\s*["']([A-Z][A-Z0-9_]+)["']"""),
    re.compile(r"""\bsetting\(\s*["']([A-Z][A-Z0-9_]+)["']"""),  # a service's typed settings (settings.py)
]
_SETTINGS_GET = re.compile(r"""\bget\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def variables_read_by_code() -> dict[str, set[str]]:
    """``{VARIABLE: {files}}`` for every environment variable services/, kinerja/ and flows/ read:
    ``os.environ``/``getenv``, the settings helpers (``_env(env, "X")``, ``_int``, ...), click's
    ``envvar=``, ``get("X")`` in a ``from_env``, and the ``setting("X", …)`` fields of the services' settings."""
    found: dict[str, set[str]] = {}
    for top in ("services", "kinerja", "flows"):
        for path in sorted((ROOT / top).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            names = {n for rx in _READS for n in rx.findall(text)}
            if "def from_env" in text:
                names |= set(_SETTINGS_GET.findall(text))
            for name in names:
                found.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    return found


def readme_documented() -> set[str]:
    """Variables named in the first column of README.md's tables (``<SERVICE>_X`` expanded)."""
    names: set[str] = set()
    for line in README.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        first = line.strip("|").split("|")[0]
        for token in re.findall(r"`([^`]+)`", first):
            if "<SERVICE>" in token:
                names |= {token.replace("<SERVICE>", s.upper()) for s in SERVICES}
            elif re.fullmatch(r"[A-Z][A-Z0-9_]+", token):
                names.add(token)
    return names


# ---------------------------------------------------------------------------------- apps

_CHILD = r"""
import importlib, json, os, runpy, sys, traceback

import prometheus_client  # picks its value store now, before any job's PROMETHEUS_MULTIPROC_DIR

base = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR") if k in os.environ}
results = []
for job in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(base)
    os.environ.update(job["env"])
    try:
        kind = job["type"]
        if kind == "app":
            app = importlib.import_module(f"services.{job['app']}.app").create_app()
            adapter = app.url_map.bind("localhost")
            matches = {}
            for path in job.get("match", []):
                try:
                    adapter.match(path, method="GET")
                    matches[path] = True
                except Exception:
                    matches[path] = False
            statuses = {path: app.test_client().get(path).status_code for path in job.get("get", [])}
            rules = [[r.rule, r.endpoint] for r in app.url_map.iter_rules()]
            platform = app.extensions.get("kinerja")
            if platform is not None:
                platform.engine.dispose()
            results.append({"ok": True, "rules": rules, "matches": matches, "statuses": statuses})
        elif kind == "click":
            import click
            from kinerja.cli import main
            cmd, rest = main, list(job["args"][1:])
            while isinstance(cmd, click.Group):
                cmd = cmd.commands[rest.pop(0)]
            try:
                cmd.make_context("kinerja", rest)
                results.append({"ok": True})
            except click.ClickException as exc:
                results.append({"ok": False, "error": exc.format_message()})
        elif kind == "gunicorn_conf":
            conf = runpy.run_path(job["path"])
            results.append({"ok": True, **{k: conf[k] for k in ("bind", "workers", "threads", "timeout")}})
        elif kind == "config":
            from services.common.config import Config
            for service in job["services"]:
                Config.from_env(service)
            results.append({"ok": True})
        else:
            raise ValueError(kind)
    except BaseException as exc:
        results.append({"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
print("RESULT:" + json.dumps(results))
"""


def in_child(jobs: list[dict]) -> list[dict]:
    """Run jobs in one child Python process, each with exactly its ``env`` as the environment
    (plus PATH and HOME), as a container process would see it; the test process's environment,
    logging and metrics stay untouched."""
    import json

    env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR") if k in os.environ}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT:")]
    assert proc.returncode == 0 and lines, f"child exited {proc.returncode}: {proc.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT:") :])


def app_reports(jobs: list[tuple[str, dict[str, str], list[str], list[str]]]) -> list[dict]:
    """``create_app()`` of each ``(app, env, paths to match, paths to GET)`` exactly as gunicorn
    and ``kinerja worker`` call it, with ``env`` as the whole environment: its routes, whether
    each path is one, and the status of each GET (test client). Fails naming the app and the
    error (a ConfigError names the variable)."""
    results = in_child(
        [
            {"type": "app", "app": app, "env": env, "match": list(match), "get": list(get)}
            for app, env, match, get in jobs
        ]
    )
    failed = [f"{job[0]}: {r['error']}" for job, r in zip(jobs, results) if not r["ok"]]
    assert not failed, "create_app() failed:\n" + "\n".join(failed)
    return results


def gunicorn_confs(envs: list[dict[str, str]]) -> list[dict]:
    """The settings kinerja/gunicorn_conf.py computes for each environment (it reads the environment)."""
    results = in_child([{"type": "gunicorn_conf", "path": str(GUNICORN_CONF), "env": env} for env in envs])
    failed = [r["error"] for r in results if not r["ok"]]
    assert not failed, failed
    return results


def configs_load(env: dict[str, str], services=SERVICES) -> None:
    [r] = in_child([{"type": "config", "env": env, "services": list(services)}])
    assert r["ok"], r["error"]


def nginx_max_body(value: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", value.strip())
    assert m, value
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]
