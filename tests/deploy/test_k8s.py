"""deploy/k8s/ (kustomize): every manifest validated offline with kubernetes-validate (bundled
schemas, strict: unknown fields fail) and cross-checked with the code like the compose file —
commands, configuration references, selectors and ports, Ingress backends, probes against the
apps' own routes, autoscalers, the environment each process needs, and the pod security the image
allows."""

from __future__ import annotations

import pytest
import yaml

from tests import figures

from . import helpers as h

KUBERNETES_VERSION = "1.30.0"
NAMESPACE = "kinerja"


def _kustomization() -> dict:
    return yaml.safe_load((h.K8S / "kustomization.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    docs = []
    for name in _kustomization()["resources"]:
        for doc in yaml.safe_load_all((h.K8S / name).read_text(encoding="utf-8")):
            if doc:
                doc["_file"] = name
                docs.append(doc)
    return docs


def _of(resources, kind):
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def _workloads(resources):
    """``(kind, name, pod spec, pod labels)`` of every Deployment and Job."""
    for r in resources:
        if r["kind"] in ("Deployment", "Job"):
            tpl = r["spec"]["template"]
            yield r["kind"], r["metadata"]["name"], tpl["spec"], tpl["metadata"].get("labels", {})


def _containers(resources):
    for kind, name, pod, _labels in _workloads(resources):
        for c in pod.get("containers", []):
            yield kind, name, pod, c


def _container_env(resources, c) -> dict[str, str]:
    """The process's environment: the image's ENV, envFrom (ConfigMaps, Secrets), then env."""
    configmaps, secrets = _of(resources, "ConfigMap"), _of(resources, "Secret")
    env = dict(h.image_env()) if c["image"] == "kinerja" else {}
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]].get("data", {}))
        if "secretRef" in source:
            env.update(secrets[source["secretRef"]["name"]].get("stringData", {}))
    for item in c.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"].get("secretKeyRef") or item["valueFrom"].get("configMapKeyRef")
            source = secrets if "secretKeyRef" in item["valueFrom"] else configmaps
            data = source[ref["name"]].get("stringData") or source[ref["name"]].get("data") or {}
            env[item["name"]] = str(data[ref["key"]])
    return env


def _port(container, port) -> int:
    if isinstance(port, int):
        return port
    found = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert found, f"{container['name']} has no port named {port}"
    return found[0]


# ---------------------------------------------------------------------------------- files and schemas


def test_kustomization_lists_every_manifest():
    k = _kustomization()
    assert k["namespace"] == NAMESPACE
    listed = k["resources"]
    assert len(listed) == len(set(listed))
    on_disk = sorted(p.name for p in h.K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk, f"listed {sorted(listed)} vs files {on_disk}"
    assert k["labels"][0]["pairs"]["app.kubernetes.io/part-of"] == "kinerja"
    header = (h.K8S / "kustomization.yaml").read_text(encoding="utf-8").split("apiVersion:")[0]
    for word in ("PostgreSQL", "RabbitMQ", "external"):
        assert word in header, f"the header comment should say {word} is brought by the operator"
    assert [i["name"] for i in k["images"]] == ["kinerja"]


def test_every_manifest_is_valid_kubernetes(resources):
    import kubernetes_validate

    for r in resources:
        doc = {k: v for k, v in r.items() if k != "_file"}
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(
                f"{r['_file']}: {r['kind']}/{r['metadata']['name']}: {exc.message} at "
                f"{'.'.join(str(p) for p in exc.path)}"
            ) from None


def test_names_are_unique_and_namespaced_by_kustomize(resources):
    seen = set()
    for r in resources:
        key = (r["kind"], r["metadata"]["name"])
        assert key not in seen, f"two {key}"
        seen.add(key)
        assert r["metadata"].get("namespace") in (None, NAMESPACE), key
    assert ("Namespace", NAMESPACE) in seen


# ---------------------------------------------------------------------------------- references


def test_configuration_references_exist(resources):
    configmaps, secrets = _of(resources, "ConfigMap"), _of(resources, "Secret")
    for _kind, name, _pod, c in _containers(resources):
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in configmaps, f"{name}: {source}"
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets, f"{name}: {source}"
        _container_env(resources, c)  # every secretKeyRef/configMapKeyRef resolves (KeyError otherwise)
    for secret in secrets.values():
        for key, value in secret.get("stringData", {}).items():
            assert "CHANGE_ME" in value or value == "", (
                f"Secret {secret['metadata']['name']}: {key} is not a placeholder"
            )


def test_services_select_one_deployment_and_reach_a_container_port(resources):
    deployments = _of(resources, "Deployment")
    for name, d in deployments.items():
        selector = d["spec"]["selector"]["matchLabels"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"Deployment {name} does not select its own pods"
    for name, svc in _of(resources, "Service").items():
        selector = svc["spec"]["selector"]
        matched = [
            d for d in deployments.values() if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, f"Service {name} selects {[d['metadata']['name'] for d in matched]}"
        container = matched[0]["spec"]["template"]["spec"]["containers"][0]
        for port in svc["spec"]["ports"]:
            _port(container, port["targetPort"])


def test_ingress_routes_the_prefixes_and_keeps_metrics_private(resources):
    services = _of(resources, "Service")
    ingresses = _of(resources, "Ingress")
    assert set(ingresses) == {"kinerja", "kinerja-public"}  # the public paths' limits: test_gateway_limits.py
    ingress = ingresses["kinerja"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    routes = {}
    for rule in ingress["spec"]["rules"]:
        assert (
            "host" not in rule
            or rule["host"] in _of(resources, "ConfigMap")["kinerja-config"]["data"]["PORTAL_API_URL"]
        ), "with a host rule, PORTAL_API_URL must use it"
        for p in rule["http"]["paths"]:
            backend = p["backend"]["service"]
            assert backend["name"] in services, f"Ingress → unknown Service {backend['name']}"
            ports = services[backend["name"]]["spec"]["ports"]
            assert any(
                backend["port"].get("name") == sp.get("name") or backend["port"].get("number") == sp["port"]
                for sp in ports
            ), f"Ingress → {backend}"
            routes[(p["path"], p["pathType"])] = backend["name"]
    for service in h.SERVICES:
        assert routes.get((f"/{service}", "Prefix")) == service
    assert routes.get(("/", "Prefix")) == "portal"
    # an Exact path wins over any Prefix: /<service>/metrics goes to an app without that route
    for service in h.SERVICES:
        target = routes.get((f"/{service}/metrics", "Exact"))
        assert target, f"/{service}/metrics reaches {service} through the Ingress"
        assert not _apps(resources)[target]["matches"][f"/{service}/metrics"], f"{target} serves /{service}/metrics"
        assert _apps(resources)[service]["matches"][f"/{service}/metrics"], "the metrics the rule hides exist"
    # evidence uploads pass the controller (its default body limit is 1m)
    from services.common.config import Config

    limit = h.nginx_max_body(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"])
    assert limit >= Config(service="plans").max_upload_bytes, limit
    assert not any("snippet" in a for a in ingress["metadata"].get("annotations", {})), (
        "snippet annotations are disabled by default in ingress-nginx"
    )


def test_autoscalers_target_the_web_apps_and_each_worker_runs_alone(resources):
    """The web apps scale; each service's worker is one pod, replaced rather than surged: two
    consumers applying batches that write the same rows deadlock (deploy/k8s/plans.yaml)."""
    deployments = _of(resources, "Deployment")
    hpas = _of(resources, "HorizontalPodAutoscaler")
    targets = set()
    for name, hpa in hpas.items():
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment" and ref["apiVersion"] == "apps/v1" and ref["name"] in deployments, name
        d = deployments[ref["name"]]
        assert "replicas" not in d["spec"], f"{ref['name']}: the autoscaler owns replicas; drop spec.replicas"
        for c in d["spec"]["template"]["spec"]["containers"]:
            assert c["resources"]["requests"].get("cpu"), f"{ref['name']}: CPU utilisation needs a CPU request"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        targets.add(ref["name"])
    assert targets == set(h.WEB_APPS), f"autoscaled {sorted(targets)}, want {sorted(h.WEB_APPS)}"
    for s in h.SERVICES:
        spec = deployments[f"{s}-worker"]["spec"]
        assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}, f"{s}-worker: {spec}"


# ---------------------------------------------------------------------------------- the processes

_APPS: dict = {}
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")


def _apps(resources) -> dict:
    """Each web app built by ``create_app()`` with its container's environment (production mode,
    the Secret's placeholders), in a child process: whether its probe paths and every service's
    /metrics are routes of it, and what its liveness path answers."""
    if not _APPS:
        jobs = []
        for _kind, _name, _pod, c in _containers(resources):
            k, app = h.process_kind(c.get("command", []))
            if k == "web":
                paths = [c[p]["httpGet"]["path"] for p in PROBES if p in c]
                metrics = [f"/{s}/metrics" for s in h.SERVICES]
                jobs.append((app, _container_env(resources, c), paths + metrics, paths[:1]))
        _APPS.update({job[0]: report for job, report in zip(jobs, h.app_reports(jobs))})
    return _APPS


def test_every_command_is_a_real_entry_point(resources):
    kinds, kinerja = [], []
    for _kind, name, _pod, c in _containers(resources):
        assert c["image"] == "kinerja", f"{name}: every container runs the Kinerja image"
        args = [str(a) for a in c.get("command", [])]
        assert args and not c.get("args"), f"{name}: the whole command in `command`"
        env = _container_env(resources, c)
        if args[0] == "kinerja":
            kinerja.append((args, env))
        elif args[0] == "gunicorn":
            assert h.check_gunicorn_command(args) == "kinerja.gunicorn_conf"
        elif args[0] == "prefect":
            h.check_prefect_command(args)
        else:
            raise AssertionError(f"{name}: unknown command {args}")
        kinds.append(h.process_kind(args))
    h.check_kinerja_commands(kinerja)
    for s in h.SERVICES:
        assert kinds.count(("web", s)) == 1 and kinds.count(("worker", s)) == 1, s
    for k in (
        ("web", "portal"),
        ("migrate", None),
        ("flows-deploy", None),
        ("prefect-server", None),
        ("prefect-worker", None),
    ):
        assert kinds.count(k) == 1, f"one {k}: {kinds}"
    jobs = _of(resources, "Job")
    assert {h.process_kind(j["spec"]["template"]["spec"]["containers"][0]["command"])[0] for j in jobs.values()} == {
        "migrate",
        "flows-deploy",
    }


def test_each_process_gets_the_environment_it_reads_in_production(resources):
    for _kind, name, _pod, c in _containers(resources):
        k, app = h.process_kind(c["command"])
        env = _container_env(resources, c)
        missing = h.missing_env(k, app, env)
        assert not missing, f"{name} ({k} {app or ''}) lacks {missing}"
        if k in ("web", "worker", "migrate"):
            assert env["KINERJA_MODE"] == "production"
        if k == "prefect-server":
            assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
        for var, value in env.items():  # in-cluster URLs name a Service and its port
            if "://" in value and var not in ("PREFECT_SERVER_UI_API_URL",):
                host, port = h.url_host_port(value)
                if host and "." not in host:
                    services = _of(resources, "Service")
                    assert host in services, f"{name}: {var}={value} names no Service"
                    assert port in [p["port"] for p in services[host]["spec"]["ports"]], f"{name}: {var}={value}"


def test_each_app_starts_from_that_environment_and_its_probes_are_routes(resources):
    apps = _apps(resources)
    assert set(apps) == set(h.WEB_APPS)
    workers = []
    for _kind, name, _pod, c in _containers(resources):
        k, app = h.process_kind(c["command"])
        env = _container_env(resources, c)
        if k == "worker":
            workers.append((app, env, [], []))  # `kinerja worker` calls the same create_app()
            assert not any(p in c for p in PROBES), "a worker serves no HTTP"
        if k != "web":
            continue
        report = apps[app]
        prefix = "" if app == "portal" else f"/{app}"
        assert c["startupProbe"]["httpGet"]["path"] == f"{prefix}/healthz", name
        assert c["livenessProbe"]["httpGet"]["path"] == f"{prefix}/healthz", name
        assert c["readinessProbe"]["httpGet"]["path"] == f"{prefix}/readyz", name
        for probe in PROBES:
            get = c[probe]["httpGet"]
            assert report["matches"][get["path"]], f"{name}: {probe} {get['path']} is no route"
            assert _port(c, get["port"]) == h.bind_port(env) == h.WEB_PORT, f"{name}: {probe} port vs BIND"
        assert report["statuses"][c["startupProbe"]["httpGet"]["path"]] == 200, name
        assert [p["containerPort"] for p in c["ports"]] == [h.bind_port(env)]
    assert len(workers) == len(h.SERVICES)
    h.app_reports(workers)


def test_gunicorn_settings_agree_with_the_containers(resources):
    if not h.GUNICORN_CONF.exists():  # TODO(lead): kinerja/gunicorn_conf.py is being written
        pytest.xfail("kinerja/gunicorn_conf.py does not exist yet")
    envs = [
        _container_env(resources, c)
        for _, _, _, c in _containers(resources)
        if h.process_kind(c["command"])[0] == "web"
    ]
    for env, conf in zip(envs, h.gunicorn_confs(envs)):
        assert conf["bind"] == f"0.0.0.0:{h.WEB_PORT}", conf["bind"]
        assert conf["workers"] == int(env["WEB_CONCURRENCY"])


def test_pods_run_as_the_image_user_with_writable_scratch(resources):
    uid = int(h.image_user().split(":")[0])
    image_env = h.image_env()
    for _kind, name, pod, c in _containers(resources):
        sc = pod["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] == uid, f"{name}: run as the image's user {uid}"
        assert pod.get("automountServiceAccountToken") is False, f"{name}: no Kubernetes API access needed"
        csc = c["securityContext"]
        assert csc["allowPrivilegeEscalation"] is False and csc["capabilities"]["drop"] == ["ALL"], name
        res = c["resources"]
        assert res["requests"].get("cpu") and res["requests"].get("memory") and res["limits"].get("memory"), name
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for path in (image_env["PROMETHEUS_MULTIPROC_DIR"], image_env["PREFECT_HOME"]):
            # a read-only root: the multiprocess metrics and Prefect's scratch need a writable volume
            if csc.get("readOnlyRootFilesystem"):
                covering = [m for m in mounts if path == m or path.startswith(m.rstrip("/") + "/")]
                assert covering, f"{name}: nothing writable at {path}"
        metrics = image_env["PROMETHEUS_MULTIPROC_DIR"]
        assert metrics in mounts and "emptyDir" in volumes[mounts[metrics]], (
            f"{name}: PROMETHEUS_MULTIPROC_DIR must exist (an emptyDir at {metrics}); a mount at /tmp hides the image's"
        )


def test_every_variable_given_is_read(resources):
    """A misspelt or invented name in the ConfigMap, a Secret or a container's env fails here."""
    read = set(h.variables_read_by_code()) | {"HEALTHCHECK_PATH"}
    given = {}
    for cm in _of(resources, "ConfigMap").values():
        given.update({k: f"ConfigMap {cm['metadata']['name']}" for k in cm.get("data", {})})
    for secret in _of(resources, "Secret").values():
        given.update({k: f"Secret {secret['metadata']['name']}" for k in secret.get("stringData", {})})
    for _kind, name, _pod, c in _containers(resources):
        given.update({e["name"]: f"{name}'s env" for e in c.get("env", [])})
    for var, where in given.items():
        if var.startswith("PREFECT_"):
            assert var in h.prefect_setting_names(), f"{where}: {var} is not a Prefect setting"
        else:
            assert var in read, f"{where}: {var} is read by nothing"


# ---------------------------------------------------------------------------------- guarantees (issue 14)


def _secrets_used(c) -> set[str]:
    used = {s["secretRef"]["name"] for s in c.get("envFrom", []) if "secretRef" in s}
    used |= {
        e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})
    }
    return used


def test_only_the_migration_connects_as_the_tables_owner(resources):
    """The migrate Job connects as the owner (Secret kinerja-db-owner, which no other container
    reads) and creates and grants DATABASE_APP_ROLE with DATABASE_APP_PASSWORD; every service,
    worker and the portal connect as that role, so none can change the audit log or a signed document."""
    processes = {
        name: (h.process_kind(c["command"]), _container_env(resources, c)) for _, name, _, c in _containers(resources)
    }
    roles = h.check_database_roles(processes)
    figures.record(
        "audit", "k8s: database role of each container", as_app=len(roles["as_app"]), as_owner=len(roles["as_owner"])
    )
    assert roles["app_role"] == "kinerja_app" and roles["owner"] != roles["app_role"]
    assert roles["as_owner"] == ["kinerja-migrate"]  # the Prefect server has a Secret (and user) of its own
    assert len(roles["as_app"]) == 2 * len(h.SERVICES) + 1
    readers = sorted(name for _, name, _, c in _containers(resources) if "kinerja-db-owner" in _secrets_used(c))
    assert readers == ["kinerja-migrate"], f"the owner's Secret is read by {readers}"
    migrate = processes["kinerja-migrate"][1]
    assert migrate["DATABASE_APP_PASSWORD"], "the Job creates the role with the services' password"
    # the check fails on a worker given the owner's URL (as every container was before the split)
    processes["plans-worker"][1]["DATABASE_URL"] = migrate["DATABASE_URL"]
    with pytest.raises(AssertionError, match="plans-worker: DATABASE_URL connects as"):
        h.check_database_roles(processes)


def test_audit_anchors_are_on_one_persistent_volume_shared_by_workers_and_web_apps(resources):
    """The workers write the anchors and the web apps read them for /audit (services/common/
    audit_watch.py): at AUDIT_ANCHOR_DIR every one of them mounts the same PersistentVolumeClaim,
    ReadWriteMany (pods on any node), the workers read-write, the web apps read-only. On a pod's own
    disk an anchor would vanish with the pod, and deleting the last audit rows would go unnoticed."""
    claims = _of(resources, "PersistentVolumeClaim")
    used, seen = set(), []
    for _kind, name, pod, c in _containers(resources):
        k, app = h.process_kind(c["command"])
        if k not in ("web", "worker") or app == "portal":
            continue
        env = _container_env(resources, c)
        directory = env.get("AUDIT_ANCHOR_DIR")
        assert directory and env.get("AUDIT_ANCHOR_KEY"), f"{name}: AUDIT_ANCHOR_DIR and AUDIT_ANCHOR_KEY"
        mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"].rstrip("/") == directory.rstrip("/")]
        assert len(mounts) == 1, f"{name}: nothing mounted at AUDIT_ANCHOR_DIR {directory}"
        volume = {v["name"]: v for v in pod.get("volumes", [])}[mounts[0]["name"]]
        assert "persistentVolumeClaim" in volume, f"{name}: the anchors are on {volume}, not a persistent volume"
        claim = volume["persistentVolumeClaim"]["claimName"]
        assert claim in claims, f"{name}: no PersistentVolumeClaim {claim}"
        assert bool(mounts[0].get("readOnly")) == (k == "web"), f"{name}: workers write the anchors, web apps only read"
        used.add(claim)
        seen.append((k, app))
    figures.record(
        "audit",
        "k8s: audit anchors on one ReadWriteMany claim",
        writers=sum(k == "worker" for k, _ in seen),
        readers=sum(k == "web" for k, _ in seen),
        claims=len(used),
    )
    assert sorted(seen) == sorted((k, s) for k in ("web", "worker") for s in h.SERVICES), seen
    assert len(used) == 1, f"one volume for every anchor reader and writer: {used}"
    spec = claims[used.pop()]["spec"]
    assert "ReadWriteMany" in spec["accessModes"], "pods on several nodes share the anchors"
    assert spec["resources"]["requests"]["storage"]
