"""deploy/compose.yaml, parsed (PyYAML) and cross-checked with the code: no container engine runs
here and no compose validator installs on Python 3.11 (ENGINEERING.md).

- every command is a real entry point (the `kinerja` click commands, parsed by click itself; the
  gunicorn app specs import and name `create_app`; the `prefect` subcommands and flags exist);
- every `depends_on` names a defined service with a valid condition that can be met;
- every process gets what it reads in production: the contract of issue 12, and each app's own
  settings loaded from exactly that environment (`create_app()`, as gunicorn and the worker call
  it), so a missing required variable fails with the ConfigError that names it;
- every variable the code reads is set here or documented in README.md; every variable set here
  is read by someone;
- ports, URLs and paths agree with the gateway template, BIND, and the Keycloak realm.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import figures

from . import helpers as h

# Variables the code reads that are neither set in compose nor in README's tables yet (reported to
# the lead, who owns README.md). A new one fails the test; one documented since then only warns.
PENDING_README = {
    # defaults the code sets for Prefect and telemetry (os.environ.setdefault), not Kinerja's settings
    "DO_NOT_TRACK",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL",
}

VALID_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
TOP_LEVEL = {"name", "services", "volumes", "networks", "configs", "secrets"}
SERVICE_KEYS = {
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "depends_on",
    "healthcheck",
    "restart",
    "ports",
    "volumes",
    "hostname",
    "networks",
    "expose",
    "user",
    "working_dir",
    "labels",
    "profiles",
    "deploy",
    "stop_grace_period",
    "stop_signal",
    "logging",
    "pull_policy",
    "init",
    "read_only",
    "tmpfs",
    "cap_drop",
    "security_opt",
    "extra_hosts",
    "configs",
    "secrets",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
# Where each compose service listens in-network (the official images' ports; ours: BIND / --port).
EXTERNAL_PORTS = {"postgres": 5432, "rabbitmq": 5672, "keycloak": 8080}


@pytest.fixture(scope="module")
def spec():
    return h.compose()


@pytest.fixture(scope="module")
def services(spec):
    return spec["services"]


def _kind(service):
    return h.process_kind(h.argv(service.get("command")))


def _kinerja_processes(services):
    return {name: s for name, s in services.items() if h.is_kinerja_image(s)}


def _listening_port(name, service) -> int | None:
    if name in EXTERNAL_PORTS:
        return EXTERNAL_PORTS[name]
    args = h.argv(service.get("command"))
    kind, _ = _kind(service)
    if kind == "web":
        return h.bind_port(h.compose_process_env(service))
    if kind == "prefect-server":
        return int(args[args.index("--port") + 1]) if "--port" in args else 4200
    if name == "gateway":
        return int(h.service_environment(service)["GATEWAY_LISTEN"].rpartition(":")[2])
    return None


# ---------------------------------------------------------------------------------- structure


def test_structure_volumes_and_mounted_files(spec, services):
    unknown = {k for k in spec if k not in TOP_LEVEL and not k.startswith("x-")}
    assert not unknown, f"unknown top-level keys: {unknown}"
    declared = set(spec.get("volumes") or {})
    for name, s in services.items():
        assert not (set(s) - SERVICE_KEYS), f"{name}: unknown keys {set(s) - SERVICE_KEYS}"
        assert "image" in s, f"{name}: no image"
        if "build" in s:
            build = s["build"]
            context = (h.COMPOSE.parent / build["context"]).resolve()
            assert context == h.ROOT, f"{name}: build context {context}"
            assert (context / build.get("dockerfile", "Dockerfile")).is_file()
        assert not (set(s.get("healthcheck") or {}) - HEALTHCHECK_KEYS), name
        for mount in s.get("volumes") or []:
            source, target = mount.split(":")[:2]
            if source.startswith((".", "/")):
                path = (h.COMPOSE.parent / source).resolve()
                if path == h.GATEWAY_TEMPLATE and not path.exists():
                    pytest.xfail("deploy/gateway/kinerja.conf.template (the lead's) does not exist yet")
                assert path.exists(), f"{name} mounts {source}, which does not exist"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
    # every Kinerja process runs the one image built from the Dockerfile
    images = {s["image"] for s in _kinerja_processes(services).values()}
    assert len(images) == 1, images


def test_required_variables_stop_compose_with_a_message():
    variables = h.compose_variables()
    required = {n for n, v in variables.items() if v["required"] is not None}
    assert {
        "POSTGRES_PASSWORD",
        "POSTGRES_APP_PASSWORD",
        "RABBITMQ_PASSWORD",
        "SURVEYS_FORM_SECRET",
        "PORTAL_SECRET_KEY",
        "PORTAL_OIDC_CLIENT_SECRET",
    } <= required
    for name in required:
        assert variables[name]["required"].strip(), f"${{{name}:?}} needs a message saying what to set"
        env = h.compose_sample_env()
        env.pop(name)
        with pytest.raises(h.MissingVariable) as exc:
            h.compose(env)
        assert exc.value.name == name
    header = h.COMPOSE.read_text(encoding="utf-8").split("\nname:")[0]
    for name in variables:
        assert name in header, f"the header comment of compose.yaml should name {name}"


# ---------------------------------------------------------------------------------- dependencies


def _has_healthcheck(service) -> bool:
    check = service.get("healthcheck") or {}
    if check.get("disable"):
        return False
    return bool(check.get("test")) or h.is_kinerja_image(service)  # the image's HEALTHCHECK


def _one_shot(service) -> bool:
    return str(service.get("restart", "no")) == "no"


def test_depends_on_names_services_with_conditions_that_can_be_met(services):
    for name, s in services.items():
        for dep, condition in h.depends_on(s).items():
            assert dep in services, f"{name} depends on {dep}, which is not defined"
            assert condition in VALID_CONDITIONS, f"{name} → {dep}: {condition}"
            if condition == "service_healthy":
                assert _has_healthcheck(services[dep]), f"{name} waits for {dep} to be healthy; it has no check"
            if condition == "service_completed_successfully":
                assert _one_shot(services[dep]), f"{name} waits for {dep} to complete; {dep} restarts"
    # no cycle
    state: dict[str, int] = {}

    def visit(n, path):
        if state.get(n) == 1:
            raise AssertionError(f"depends_on cycle: {' → '.join(path + [n])}")
        if state.get(n) == 2:
            return
        state[n] = 1
        for dep in h.depends_on(services[n]):
            visit(dep, path + [n])
        state[n] = 2

    for n in services:
        visit(n, [])


def test_services_and_workers_wait_for_the_migration_and_their_servers(services):
    want = {"migrate": "service_completed_successfully", "postgres": "service_healthy", "rabbitmq": "service_healthy"}
    seen = set()
    for name, s in services.items():
        kind, app = _kind(s)
        if kind in ("web", "worker") and app != "portal":
            assert {k: v for k, v in h.depends_on(s).items() if k in want} == want, f"{name}: {h.depends_on(s)}"
            seen.add((kind, app))
        if kind == "migrate":
            assert _one_shot(s)
    assert seen == {(k, s) for k in ("web", "worker") for s in h.SERVICES}, seen
    kinds = [_kind(s) for s in services.values()]
    for expected in (
        ("web", "portal"),
        ("migrate", None),
        ("flows-deploy", None),
        ("prefect-server", None),
        ("prefect-worker", None),
    ):
        assert kinds.count(expected) == 1, f"one {expected}: {kinds}"


# ---------------------------------------------------------------------------------- commands


def test_every_command_is_a_real_entry_point(services):
    kinerja = []
    for name, s in _kinerja_processes(services).items():
        args = h.argv(s.get("command"))
        assert args, f"{name}: give every Kinerja container its command"
        env = h.compose_process_env(s)
        if args[0] == "kinerja":
            kinerja.append((args, env))
        elif args[0] == "gunicorn":
            module = h.check_gunicorn_command(args)
            assert module == "kinerja.gunicorn_conf", f"{name}: {module}"
        elif args[0] == "prefect":
            h.check_prefect_command(args)
        else:
            raise AssertionError(f"{name}: unknown command {args}")
    h.check_kinerja_commands(kinerja)


def test_gunicorn_settings_agree_with_bind(services):
    if not h.GUNICORN_CONF.exists():  # TODO(lead): kinerja/gunicorn_conf.py is being written
        pytest.xfail("kinerja/gunicorn_conf.py does not exist yet")
    web = {name: h.compose_process_env(s) for name, s in services.items() if _kind(s)[0] == "web"}
    for (name, env), conf in zip(web.items(), h.gunicorn_confs(list(web.values()))):
        assert conf["bind"] == env["BIND"] == f"0.0.0.0:{h.WEB_PORT}", f"{name}: {conf['bind']}"
        assert conf["workers"] == int(env["WEB_CONCURRENCY"]) and conf["threads"] == int(env["THREADS"])


# ---------------------------------------------------------------------------------- environment


def test_each_process_gets_the_environment_it_reads_in_production(services):
    for name, s in services.items():
        if not h.is_kinerja_image(s):
            continue
        kind, app = _kind(s)
        env = h.compose_process_env(s)
        missing = h.missing_env(kind, app, env)
        assert not missing, f"{name} ({kind} {app or ''}) lacks {missing}"
        if kind in ("web", "worker", "migrate"):
            assert env["KINERJA_MODE"] == "production", name


def test_each_app_starts_from_exactly_that_environment(services):
    """``create_app()`` with the container's environment and nothing else: the settings of the
    platform (Config), surveys, notifications and reviews (their Settings) and the portal
    (PortalSettings) are all read as in production; a missing or malformed one is a ConfigError."""
    jobs, names = [], []
    for name, s in services.items():
        kind, app = _kind(s)
        env = h.compose_process_env(s)
        if kind in ("web", "worker"):
            health = "/healthz" if app == "portal" else f"/{app}/healthz"
            check = env.get("HEALTHCHECK_PATH", "") if kind == "web" else ""
            assert kind != "web" or check, f"{name}: set HEALTHCHECK_PATH"
            jobs.append((app, env, [check] if check else [], [health]))
            names.append((name, kind, app, health, check))
        elif kind == "migrate":
            h.configs_load(env)  # `kinerja db upgrade` reads each service's Config
    reports = h.app_reports(jobs)
    for (name, _, app, health, check), report in zip(names, reports):
        assert report["statuses"][health] == 200, name
        if check:
            assert report["matches"][check], f"{name}: HEALTHCHECK_PATH {check} is not a route of the app"
            assert not (app == "portal" and check.endswith("readyz")), (
                "the portal's readiness needs the gateway, which waits for the portal: use /healthz"
            )
    assert {(k, a) for _, k, a, _, _ in names} == {(k, a) for k in ("web", "worker") for a in h.SERVICES} | {
        ("web", "portal")
    }


def test_every_variable_the_code_reads_is_set_or_documented(services):
    read = h.variables_read_by_code()
    set_somewhere = set(h.image_env())
    for s in services.values():
        set_somewhere |= set(h.service_environment(s))
    documented = h.readme_documented()
    unknown = sorted(n for n in read if n not in set_somewhere | documented | PENDING_README)
    assert not unknown, (
        "read by the code, but neither set in compose nor in README's Configuration table: "
        + ", ".join(f"{n} ({', '.join(sorted(read[n]))})" for n in unknown)
    )
    stale = sorted(n for n in PENDING_README if n in set_somewhere | documented or n not in read)
    if stale:
        warnings.warn(f"tests/deploy PENDING_README: documented, set or no longer read now: {stale}", stacklevel=1)


def test_every_variable_set_is_read_by_its_process(services):
    """Catches a misspelt or invented name: each variable a Kinerja container is given is read by
    the code, gunicorn's settings, the image's HEALTHCHECK, or Prefect (a real Prefect setting)."""
    read = set(h.variables_read_by_code()) | {"HEALTHCHECK_PATH"}
    prefect_names = h.prefect_setting_names()
    for name, s in _kinerja_processes(services).items():
        for var in h.service_environment(s):
            if var.startswith("PREFECT_"):
                assert var in prefect_names, f"{name}: {var} is not a Prefect setting"
            else:
                assert var in read, f"{name}: {var} is read by nothing"


def test_shared_settings_have_one_value(services):
    per_process = {"HEALTHCHECK_PATH"}
    values: dict[str, dict[str, str]] = {}
    for name, s in _kinerja_processes(services).items():
        for var, value in h.service_environment(s).items():
            if var == "DATABASE_URL" and _kind(s)[0] == "migrate":
                continue  # the owner's: test_only_the_migration_connects_as_the_tables_owner
            if var not in per_process:
                values.setdefault(var, {})[name] = value
    for var, by_service in values.items():
        assert len(set(by_service.values())) == 1, f"{var} differs between processes: {by_service}"


def test_only_the_migration_connects_as_the_tables_owner(services):
    """Issue 14: the services' database role cannot change the audit log or the signed documents.
    `migrate` connects as the owner and creates, grants and sets the password of DATABASE_APP_ROLE;
    every service, worker and the portal connect as that role with POSTGRES_APP_PASSWORD; only the
    Prefect server (its own database) shares the owner."""
    processes = {name: (_kind(s), h.compose_process_env(s)) for name, s in _kinerja_processes(services).items()}
    roles = h.check_database_roles(processes)
    figures.record(
        "audit", "compose: database role of each process", as_app=len(roles["as_app"]), as_owner=len(roles["as_owner"])
    )
    assert (roles["owner"], roles["app_role"], roles["server"]) == ("kinerja", "kinerja_app", "postgres:5432")
    assert roles["as_owner"] == ["migrate", "prefect-server"]
    assert len(roles["as_app"]) == 2 * len(h.SERVICES) + 1  # web app and worker of each service, the portal
    assert h.service_environment(services["postgres"])["POSTGRES_USER"] == roles["owner"]
    migrate = h.compose_process_env(services["migrate"])
    assert migrate["DATABASE_APP_PASSWORD"] == h.sample_value("POSTGRES_APP_PASSWORD")
    assert h.sample_value("POSTGRES_PASSWORD") not in migrate["DATABASE_APP_PASSWORD"]
    # the check fails on a service given the owner's URL (as every one was before the split)
    processes["plans-worker"][1]["DATABASE_URL"] = migrate["DATABASE_URL"]
    with pytest.raises(AssertionError, match="plans-worker: DATABASE_URL connects as 'kinerja'"):
        h.check_database_roles(processes)


def test_urls_name_services_and_their_ports(services):
    for name, s in services.items():
        for var, value in h.service_environment(s).items():
            if "://" not in value:
                continue
            host, port = h.url_host_port(value)
            if host in ("localhost", "127.0.0.1") or host is None or "." in host:
                continue  # what browsers use, or outside compose
            assert host in services, f"{name}: {var}={value} names no compose service"
            expected = _listening_port(host, services[host])
            assert expected is not None and port == expected, (
                f"{name}: {var} reaches {host}:{port}, but {host} listens on {expected}"
            )


# ---------------------------------------------------------------------------------- gateway


def _template():
    if not h.GATEWAY_TEMPLATE.exists():  # TODO(lead): deploy/gateway/kinerja.conf.template
        pytest.xfail("deploy/gateway/kinerja.conf.template (the lead's) does not exist yet")
    return h.GATEWAY_TEMPLATE.read_text(encoding="utf-8")


def test_gateway_renders_the_template_with_every_upstream(services):
    text = _template()
    gateway = services["gateway"]
    env = h.service_environment(gateway)
    mounts = [m.split(":") for m in gateway.get("volumes") or []]
    assert any(
        Path(src).name == h.GATEWAY_TEMPLATE.name and dst == "/etc/nginx/templates/default.conf.template"
        for src, dst, *_ in mounts
    ), mounts
    placeholders = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", text))
    assert placeholders, "the template has no ${...} placeholders"
    assert placeholders <= set(env), f"the template needs {placeholders - set(env)}"
    # envsubst replaces only the variables set: none may shadow one of nginx's own ($host, ...)
    nginx_vars = set(re.findall(r"\$([a-z_][a-z0-9_]*)", text))
    assert not {k.lower() for k in env} & nginx_vars
    upstreams = {k: v for k, v in env.items() if k.endswith("_UPSTREAM")}
    assert {k[: -len("_UPSTREAM")].lower() for k in upstreams} == set(h.WEB_APPS)
    for var, value in upstreams.items():
        host, _, port = value.rpartition(":")
        assert host in services and int(port) == _listening_port(host, services[host]), f"{var}={value}"
        assert host == var[: -len("_UPSTREAM")].lower()
    # the prefixes of the embedded mode, the rest to the portal
    for service in h.SERVICES:
        m = re.search(
            rf"location\s+/{service}/\s*\{{[^}}]*proxy_pass\s+http://\$\{{{service.upper()}_UPSTREAM\}}", text
        )
        assert m, f"no location /{service}/ → ${{{service.upper()}_UPSTREAM}}"
    assert re.search(r"location\s+/\s*\{[^}]*proxy_pass\s+http://\$\{PORTAL_UPSTREAM\}", text)
    listen = env["GATEWAY_LISTEN"]
    assert re.search(r"listen\s+\$\{GATEWAY_LISTEN\}", text)
    published = [p for p in gateway.get("ports") or [] if str(p).rsplit(":", 1)[-1] == listen]
    assert published, f"the gateway's port {listen} is not published: {gateway.get('ports')}"


def test_gateway_keeps_metrics_private():
    text = _template()
    blocks = re.findall(r"location\s+~\*?\s+(\S+)\s*\{([^}]*)\}", text)
    for service in h.SERVICES:
        hits = [body for regex, body in blocks if re.search(regex, f"/{service}/metrics")]
        assert hits and re.search(r"return\s+40[34]", hits[0]), f"/{service}/metrics goes through the gateway"
        assert not any(re.search(regex, f"/{service}/healthz") for regex, _ in blocks)


def test_public_urls_and_published_ports_agree(services):
    gateway_ports = [str(p) for p in services["gateway"].get("ports") or []]
    public = h.service_environment(services["surveys"])["SURVEYS_PUBLIC_URL"]
    assert public == h.service_environment(services["notifications"])["PORTAL_URL"]
    assert any(p.split(":")[-2] == str(urlsplit(public).port or 80) for p in gateway_ports), (public, gateway_ports)
    keycloak = services["keycloak"]
    kc_env = h.service_environment(keycloak)
    issuer_base = kc_env["KC_HOSTNAME"]
    assert any(p.split(":")[-2] == str(urlsplit(issuer_base).port or 80) for p in keycloak.get("ports") or [])
    assert kc_env["KINERJA_PUBLIC_URL"] == public


# ---------------------------------------------------------------------------------- identity provider


def _realm(services) -> dict:
    env = h.service_environment(services["keycloak"])
    text = h.REALM.read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))
    assert placeholders <= set(env), f"the realm needs {placeholders - set(env)} in Keycloak's environment"
    for name in placeholders:
        text = text.replace("${" + name + "}", env[name])
    return json.loads(text)


def _client(realm, client_id):
    found = [c for c in realm["clients"] if c["clientId"] == client_id]
    assert len(found) == 1, f"realm client {client_id}"
    return found[0]


def _user_profile(realm) -> dict:
    providers = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    return json.loads(providers[0]["config"]["kc.user.profile.config"][0])


def test_keycloak_realm_matches_the_code_and_compose(services):
    from services.common.auth import ROLES

    realm = _realm(services)
    kc = h.service_environment(services["keycloak"])
    plans = h.service_environment(services["plans"])
    portal = h.service_environment(services["portal"])
    worker = h.service_environment(services["prefect-worker"])
    base = f"http://keycloak:{EXTERNAL_PORTS['keycloak']}/realms/{realm['realm']}"
    assert realm["realm"] == "kinerja" and realm["enabled"]
    assert plans["JWT_ISSUER"] == f"{kc['KC_HOSTNAME']}/realms/{realm['realm']}", "tokens' iss is the front URL"
    assert plans["JWT_JWKS_URL"] == f"{base}/protocol/openid-connect/certs"
    assert portal["PORTAL_OIDC_METADATA_URL"] == f"{base}/.well-known/openid-configuration"
    assert worker["KINERJA_TOKEN_URL"] == f"{base}/protocol/openid-connect/token"
    assert kc["KC_HOSTNAME"].startswith("http") and kc["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"] == "true", (
        "backchannel-dynamic needs KC_HOSTNAME as a full URL"
    )
    assert any(v.endswith("--import-realm") for v in h.argv(services["keycloak"]["command"]))
    mounts = [m.split(":") for m in services["keycloak"].get("volumes") or []]
    assert any(
        (h.COMPOSE.parent / src).resolve() == h.REALM and dst.startswith("/opt/keycloak/data/import/")
        for src, dst, *_ in mounts
    ), mounts

    # the portal: code + PKCE S256, its redirect URI is the portal's callback route
    portal_client = _client(realm, portal["PORTAL_OIDC_CLIENT_ID"])
    assert portal_client["standardFlowEnabled"] and not portal_client.get("implicitFlowEnabled")
    assert portal_client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert portal_client["secret"] == portal["PORTAL_OIDC_CLIENT_SECRET"]
    [report] = h.app_reports([("portal", h.compose_process_env(services["portal"]), [], [])])
    callback = [rule for rule, endpoint in report["rules"] if endpoint == "oidc.callback"]
    assert callback == ["/auth/callback"], callback
    public = h.service_environment(services["surveys"])["SURVEYS_PUBLIC_URL"]
    assert portal_client["redirectUris"] == [public + callback[0]]
    assert portal_client["webOrigins"] == [public]

    # the flows: client credentials only, its service account is HR of an agency
    flows = _client(realm, worker["KINERJA_CLIENT_ID"])
    assert flows["serviceAccountsEnabled"] and not flows["publicClient"] and not flows["standardFlowEnabled"]
    assert flows["secret"] == worker["KINERJA_CLIENT_SECRET"]
    account = [u for u in realm["users"] if u.get("serviceAccountClientId") == flows["clientId"]]
    assert len(account) == 1 and account[0]["username"] == f"service-account-{flows['clientId']}"
    assert account[0]["attributes"]["roles"] == ["hr"] and account[0]["attributes"]["agency"]

    # claims: exactly nip, agency, roles (roles a JSON array), in access token, ID token, userinfo
    for client in (portal_client, flows):
        attrs = [m for m in client["protocolMappers"] if m["protocolMapper"] == "oidc-usermodel-attribute-mapper"]
        assert sorted(m["config"]["claim.name"] for m in attrs) == ["agency", "nip", "roles"], client["clientId"]
        for m in attrs:
            c = m["config"]
            assert c["user.attribute"] == c["claim.name"]
            assert all(c[k] == "true" for k in ("access.token.claim", "id.token.claim", "userinfo.token.claim"))
            assert c["multivalued"] == ("true" if c["claim.name"] == "roles" else "false")
        audience = [m for m in client["protocolMappers"] if m["protocolMapper"] == "oidc-audience-mapper"]
        assert len(audience) == 1 and audience[0]["config"]["included.custom.audience"] == plans["JWT_AUDIENCE"]
        assert audience[0]["config"]["access.token.claim"] == "true"

    # Keycloak 24+ drops undeclared attributes: nip, agency, roles are in the user profile, only
    # administrators may change them, and every user's attributes are declared and valid
    profile = {a["name"]: a for a in _user_profile(realm)["attributes"]}
    for name in ("nip", "agency", "roles"):
        assert name in profile, f"user profile lacks {name}"
        assert profile[name]["permissions"]["edit"] == ["admin"], f"people must not edit their own {name}"
    assert profile["roles"]["multivalued"] and set(profile["roles"]["validations"]["options"]["options"]) == set(ROLES)
    for user in realm["users"]:
        assert set(user.get("attributes", {})) <= set(profile), user["username"]
        assert set(user.get("attributes", {}).get("roles", [])) <= set(ROLES), user["username"]
    hr = [u for u in realm["users"] if not u.get("serviceAccountClientId")]
    assert any(u["attributes"].get("roles") == ["hr"] and u["attributes"].get("agency") == ["DEMO"] for u in hr)


def test_tokens_shaped_by_the_realm_pass_the_services_and_the_portal(services):
    """The claims the realm's mappers put into an access token (nip and agency as strings, roles
    as a list, aud including JWT_AUDIENCE, iss the front URL) are what the services' verifier and
    the portal's sign-in accept. Keycloak itself cannot run here; the key is made up."""
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    from services.common.auth import TokenVerifier
    from services.common.config import Config
    from services.common.errors import Problem
    from services.portal.oidc import user_from_token

    realm = _realm(services)
    env = h.compose_process_env(services["plans"])
    verifier = TokenVerifier(Config.from_env("plans", env=env))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    class Jwks:  # the JwksCache holding the realm's key
        def key(self, kid):
            return type("Key", (), {"key": key.public_key()})()

    verifier._jwks = Jwks()
    hr_user = next(u for u in realm["users"] if u["username"] == "hr.demo")
    now = int(time.time())
    claims = {
        "iss": env["JWT_ISSUER"],
        "sub": "4f1c2d9e",
        "aud": [env["JWT_AUDIENCE"], "account"],
        "exp": now + 300,
        "iat": now,
        "azp": "kinerja-portal",
        "agency": hr_user["attributes"]["agency"][0],
        "roles": hr_user["attributes"]["roles"],
        "name": f"{hr_user['firstName']} {hr_user['lastName']}",
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    principal = verifier.verify(token)
    assert principal.roles == frozenset({"hr"}) and principal.agency == "DEMO"
    user = user_from_token({"access_token": token, "userinfo": {"name": claims["name"]}})
    assert user.roles == ("hr",) and user.agency == "DEMO" and user.name == claims["name"]
    for wrong in ({"aud": "account"}, {"iss": "http://keycloak:8080/realms/kinerja"}):
        bad = jwt.encode({**claims, **wrong}, key, algorithm="RS256")
        with pytest.raises(Problem) as refused:
            verifier.verify(bad)
        assert refused.value.status == 401


def test_commands_the_comments_tell_operators_to_run_exist(services):
    """The first-agency command in the headers of compose.yaml and kustomization.yaml."""
    env = h.compose_process_env(services["migrate"])
    found = 0
    for path in (h.COMPOSE, h.K8S / "kustomization.yaml"):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = (
                re.search(r"\b(kinerja (?:admin|db|flows|worker)\b.*)$", line)
                if line.lstrip().startswith("#")
                else None
            )
            if m:
                h.check_kinerja_command(h.argv(m.group(1)), env)
                found += 1
    assert found >= 2


def test_audit_anchors_are_on_one_volume_shared_by_workers_and_web_apps(spec, services):
    """The workers write the anchors and the web apps read them for /audit: the same named volume at
    AUDIT_ANCHOR_DIR in each (a container's own disk is gone with the container)."""
    used, seen = set(), []
    for name, s in services.items():
        kind, app = _kind(s)
        if kind not in ("web", "worker") or app == "portal":
            continue
        env = h.compose_process_env(s)
        assert env.get("AUDIT_ANCHOR_KEY"), name
        mounts = [m.split(":") for m in s.get("volumes") or []]
        found = [(src, opts) for src, dst, *opts in mounts if dst.rstrip("/") == env["AUDIT_ANCHOR_DIR"].rstrip("/")]
        assert len(found) == 1 and found[0][0] in (spec.get("volumes") or {}), f"{name}: no volume at AUDIT_ANCHOR_DIR"
        assert ("ro" in found[0][1]) == (kind == "web"), f"{name}: workers write the anchors, web apps only read"
        used.add(found[0][0])
        seen.append((kind, app))
    assert sorted(seen) == sorted((k, s) for k in ("web", "worker") for s in h.SERVICES), seen
    assert len(used) == 1, used
