#!/usr/bin/env python3
"""Structural checks of deploy/ that no off-the-shelf validator does (run by .ci/deploy-check.sh).

    check.py metrics [RABBITMQ_METRIC_NAMES_FILE]  every metric in the dashboard and the alerts
                                                    exists: in the code, in the RabbitMQ plugin's
                                                    output (a file of names scraped from a live
                                                    node), among the few external ones, or in
                                                    deploy/metrics-pending.txt; writes the
                                                    dashboard's expressions as a rules file for
                                                    promtool to parse (path on stdout)
    check.py dashboard                              every panel has a datasource, targets, a title,
                                                    a position; ids and refIds unique
    check.py k8s RENDERED.yaml                      cross references of the rendered kustomize base,
                                                    and what can be checked of the CRDs (KEDA,
                                                    Prometheus Operator) without their schemas
    check.py docker                                 the Dockerfile's toolchain is recent enough for
                                                    Cargo.lock, and its .dockerignore keeps what it COPYs
"""
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
errors = []


def fail(msg):
    errors.append(msg)


# --- metrics --------------------------------------------------------------------------------------

# Exported by other programs the deployment runs: Prometheus itself and postgres_exporter.
EXTERNAL = {"up", "pg_up"}
PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "offset", "sum", "min", "max", "avg", "count", "rate", "increase", "irate", "histogram_quantile",
    "le", "inf", "nan",
}


def code_metrics():
    """Metric names the code registers: metrics::counter!/gauge!/histogram!("name" ...)."""
    names = set()
    sources = list((ROOT / "services").rglob("src/**/*.rs")) + list((ROOT / "shared").rglob("src/**/*.rs"))
    pattern = re.compile(r"\b(counter|gauge|histogram|describe_counter|describe_gauge|describe_histogram)!\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"")
    for path in sources:
        for kind, name in pattern.findall(path.read_text(errors="replace")):
            names.add(name)
            if kind.endswith("histogram"):
                names.update({f"{name}_bucket", f"{name}_sum", f"{name}_count"})
    return names


def pending_metrics():
    names = set()
    for line in (DEPLOY / "metrics-pending.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            names.add(line.split("\t")[0].strip())
    return names


def metrics_in(expr):
    """The metric names of a PromQL expression (good enough for ours: no subqueries of strings)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)  # ranges
    e = re.sub(r"\$\{?\w+\}?", "", e)  # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS or re.fullmatch(r"\d+[smhdwy]?", word):
            continue
        names.add(word)
    return names


def dashboard_exprs():
    doc = json.loads((DEPLOY / "grafana" / "cigo.json").read_text())
    for p in doc["panels"]:
        for t in p.get("targets", []):
            yield f"dashboard panel {p['id']} '{p['title']}' {t['refId']}", t["expr"]


def alert_exprs():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    for g in rules["groups"]:
        for r in g["rules"]:
            yield f"alert {r.get('alert') or r.get('record')}", r["expr"]


def check_metrics(rabbit_names_file=None):
    known = code_metrics() | pending_metrics() | EXTERNAL
    rabbit = None
    if rabbit_names_file:
        rabbit = set(pathlib.Path(rabbit_names_file).read_text().split())
        known |= rabbit
    pending_used = set()
    for where, expr in list(dashboard_exprs()) + list(alert_exprs()):
        for name in metrics_in(expr):
            if name.startswith("rabbitmq_") and rabbit is None:
                continue  # no live node to compare with: checked when one is given
            if name not in known:
                fail(f"{where}: metric {name} is exported by nothing (code, RabbitMQ, metrics-pending.txt)")
            if name in pending_metrics():
                pending_used.add(name)
    exported_now = pending_metrics() & code_metrics()
    for name in sorted(exported_now):
        fail(f"deploy/metrics-pending.txt lists {name}, which the code now exports: remove the line")
    for name in sorted(pending_metrics() - pending_used):
        fail(f"deploy/metrics-pending.txt lists {name}, which nothing uses")
    # The dashboard's expressions as recording rules, for `promtool check rules` to parse.
    rules = {"groups": [{"name": "dashboard", "rules": []}]}
    for i, (where, expr) in enumerate(dashboard_exprs()):
        expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
        rules["groups"][0]["rules"].append({"record": f"dashboard:expr_{i}", "expr": expr})
    out = pathlib.Path(tempfile.mkdtemp()) / "dashboard-exprs.yaml"
    out.write_text(yaml.safe_dump(rules))
    print(out)


# --- dashboard ------------------------------------------------------------------------------------


def check_dashboard():
    doc = json.loads((DEPLOY / "grafana" / "cigo.json").read_text())
    for key in ("uid", "title", "panels", "schemaVersion", "templating"):
        if key not in doc:
            fail(f"dashboard: no {key}")
    variables = {v["name"] for v in doc["templating"]["list"]}
    ids = [p.get("id") for p in doc["panels"]]
    if len(ids) != len(set(ids)) or None in ids:
        fail("dashboard: panel ids missing or repeated")
    for p in doc["panels"]:
        where = f"dashboard panel {p.get('id')} '{p.get('title')}'"
        if not p.get("title"):
            fail(f"{where}: no title")
        pos = p.get("gridPos", {})
        if not all(isinstance(pos.get(k), int) for k in ("x", "y", "w", "h")) or pos.get("x", 0) + pos.get("w", 0) > 24:
            fail(f"{where}: bad gridPos {pos}")
        if p["type"] == "row":
            continue
        ds = p.get("datasource") or {}
        if ds.get("type") != "prometheus" or ds.get("uid", "").strip("${}") not in variables:
            fail(f"{where}: datasource {ds} is not the dashboard's Prometheus variable")
        targets = p.get("targets") or []
        if not targets:
            fail(f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)):
            fail(f"{where}: repeated refId")
        for t in targets:
            if not t.get("expr"):
                fail(f"{where}: a target without expr")
            if (t.get("datasource") or {}).get("uid") != ds.get("uid"):
                fail(f"{where}: target {t.get('refId')} on another datasource")
    # The brief of the dashboard: each of these has a panel.
    titles = " | ".join(p.get("title", "").lower() for p in doc["panels"])
    for needed in ("uploads", "prevalidated", "p50", "queue depth", "queue lag", "dead letters", "sla",
                   "http answers", "database", "broker"):
        if needed not in titles:
            fail(f"dashboard: no panel about {needed}")
    # The compose provisioning points at the same datasource type and the dashboard file.
    prov = yaml.safe_load((DEPLOY / "compose/grafana/provisioning/datasources/prometheus.yaml").read_text())
    if not any(d.get("type") == "prometheus" for d in prov["datasources"]):
        fail("grafana provisioning: no Prometheus datasource")


# --- Kubernetes -----------------------------------------------------------------------------------


def check_k8s(rendered):
    docs = [d for d in yaml.safe_load_all(pathlib.Path(rendered).read_text()) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    for kind in ("Deployment", "Job", "Service", "PodDisruptionBudget", "ScaledObject", "TriggerAuthentication",
                 "ServiceMonitor", "PrometheusRule", "ConfigMap"):
        if kind not in by_kind:
            fail(f"k8s: no {kind}")
    deployments = by_kind.get("Deployment", {})
    for name in ("cigo-api", "cigo-worker", "cigo-sender"):
        if name not in deployments:
            fail(f"k8s: no Deployment {name}")
    secrets_referenced = set()

    def pod_checks(where, spec):
        for c in spec["containers"]:
            ports = {p["name"] for p in c.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                pr = c.get(probe)
                if where.startswith("Deployment"):
                    if not pr:
                        fail(f"{where}: {c['name']} has no {probe}")
                        continue
                    port = pr.get("httpGet", {}).get("port")
                    if port not in ports:
                        fail(f"{where}: {probe} on port {port}, not a port of the container")
                    path = pr.get("httpGet", {}).get("path")
                    expected = "/readyz" if probe == "readinessProbe" else "/healthz"
                    if path != expected:
                        fail(f"{where}: {probe} on {path}, expected {expected}")
            res = c.get("resources", {})
            if not res.get("requests") or not res.get("limits", {}).get("memory"):
                fail(f"{where}: {c['name']} without resource requests and a memory limit")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False or not sc.get("readOnlyRootFilesystem"):
                fail(f"{where}: {c['name']} may escalate privileges or write its root filesystem")
            for ef in c.get("envFrom", []):
                if "configMapRef" in ef and ef["configMapRef"]["name"] not in by_kind.get("ConfigMap", {}):
                    fail(f"{where}: ConfigMap {ef['configMapRef']['name']} not in the base")
                if "secretRef" in ef:
                    secrets_referenced.add(ef["secretRef"]["name"])
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            fail(f"{where}: not runAsNonRoot")

    for name, d in deployments.items():
        tmpl = d["spec"]["template"]
        sel = d["spec"]["selector"]["matchLabels"]
        if any(tmpl["metadata"]["labels"].get(k) != v for k, v in sel.items()):
            fail(f"Deployment {name}: selector does not match the template's labels")
        pod_checks(f"Deployment {name}", tmpl["spec"])
    for name, j in by_kind.get("Job", {}).items():
        pod_checks(f"Job {name}", j["spec"]["template"]["spec"])
        args = j["spec"]["template"]["spec"]["containers"][0].get("args")
        if args != ["migrate"]:
            fail(f"Job {name}: args {args}, expected [migrate]")

    def matching(selector, kind="Deployment"):
        return [n for n, d in deployments.items()
                if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())]

    for name, s in by_kind.get("Service", {}).items():
        if not matching(s["spec"]["selector"]):
            fail(f"Service {name}: selects no Deployment")
    for name, p in by_kind.get("PodDisruptionBudget", {}).items():
        if len(matching(p["spec"]["selector"]["matchLabels"])) != 1:
            fail(f"PodDisruptionBudget {name}: does not select exactly one Deployment")
    # KEDA: the ScaledObjects scale our Deployments on queues the broker has.
    definitions = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    queues = {(q["vhost"], q["name"]) for q in definitions["queues"]}
    auths = by_kind.get("TriggerAuthentication", {})
    scaled = set()
    for name, so in by_kind.get("ScaledObject", {}).items():
        target = so["spec"]["scaleTargetRef"]["name"]
        scaled.add(target)
        if target not in deployments:
            fail(f"ScaledObject {name}: scales {target}, not a Deployment of the base")
        if not 0 < so["spec"].get("minReplicaCount", 0) <= so["spec"].get("maxReplicaCount", 0):
            fail(f"ScaledObject {name}: minReplicaCount must be at least 1 and at most maxReplicaCount")
        for t in so["spec"]["triggers"]:
            m = t["metadata"]
            if t["type"] != "rabbitmq" or m.get("mode") not in ("QueueLength", "MessageRate"):
                fail(f"ScaledObject {name}: trigger {t['type']} {m.get('mode')}")
            if (m.get("vhostName"), m.get("queueName")) not in queues:
                fail(f"ScaledObject {name}: queue {m.get('queueName')} in vhost {m.get('vhostName')} is not in definitions.json")
            if not str(m.get("value", "")).isdigit():
                fail(f"ScaledObject {name}: value {m.get('value')} is not a whole number")
            ref = t.get("authenticationRef", {}).get("name")
            if ref not in auths:
                fail(f"ScaledObject {name}: authenticationRef {ref} not in the base")
    if scaled != {"cigo-worker", "cigo-sender"}:
        fail(f"KEDA scales {sorted(scaled)}, expected cigo-worker and cigo-sender")
    for name, a in auths.items():
        for ref in a["spec"].get("secretTargetRef", []):
            secrets_referenced.add(ref["name"])
    # ServiceMonitor: selects our Services, on ports they have.
    services = by_kind.get("Service", {})
    for name, sm in by_kind.get("ServiceMonitor", {}).items():
        sel = sm["spec"]["selector"]["matchLabels"]
        chosen = [s for s in services.values() if all(s["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())]
        if {s["metadata"]["name"] for s in chosen} != {"cigo-api", "cigo-worker", "cigo-sender"}:
            fail(f"ServiceMonitor {name}: selects {[s['metadata']['name'] for s in chosen]}")
        ports = {p["name"] for s in chosen for p in s["spec"]["ports"]}
        for ep in sm["spec"]["endpoints"]:
            if ep["port"] not in ports:
                fail(f"ServiceMonitor {name}: port {ep['port']} is on none of the Services")
    # PrometheusRule: the rules are those of alerts.yaml (render.py --check); here their shape.
    for name, pr in by_kind.get("PrometheusRule", {}).items():
        for g in pr["spec"]["groups"]:
            for r in g["rules"]:
                if "alert" in r and not {"severity"} <= set(r.get("labels", {})):
                    fail(f"PrometheusRule {name}: alert {r['alert']} without a severity")
                if "alert" in r and "runbook_url" not in r.get("annotations", {}):
                    fail(f"PrometheusRule {name}: alert {r['alert']} without a runbook_url")
    # Secrets are referenced, never part of the base.
    if "Secret" in by_kind:
        fail(f"k8s: the base contains Secrets {sorted(by_kind['Secret'])}: they must not be committed")
    print(f"k8s cross references: {len(docs)} resources; Secrets referenced, not committed: {sorted(secrets_referenced)}")


# --- Dockerfile -----------------------------------------------------------------------------------


def version_tuple(v):
    return tuple(int(x) for x in v.split(".")[:3] if x.isdigit())


def check_docker():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    m = re.search(r"^ARG RUST_VERSION=(\S+)", dockerfile, re.M)
    if not m:
        fail("Dockerfile: no ARG RUST_VERSION")
        return
    image = m.group(1)
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--offline"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == "cigo" and p["source"] is None)
    # What `cargo build -p cigo --bin cigo` compiles: normal and build dependencies, transitively.
    seen, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    needs = max(((version_tuple(packages[p].get("rust_version") or "0"), packages[p]["name"]) for p in seen))
    if version_tuple(image) < needs[0]:
        fail(f"Dockerfile: RUST_VERSION {image} is older than {'.'.join(map(str, needs[0]))}, "
             f"the rust-version of {needs[1]} in Cargo.lock: `cargo build --locked` would fail")
    else:
        print(f"Dockerfile: Rust {image} >= {'.'.join(map(str, needs[0]))} ({needs[1]}, the highest "
              f"rust-version of the {len(seen)} crates the binary is built from)")
    # The .dockerignore (allow-list) keeps every COPY source of the build context.
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for line in dockerfile.splitlines():
        m = re.match(r"^COPY\s+(?!--from)(.+)\s+\S+$", line)
        if m:
            for src in m.group(1).split():
                if src.rstrip("/") not in allowed:
                    fail(f"Dockerfile: COPY {src}, which Dockerfile.dockerignore leaves out of the context")
                if not (ROOT / src).exists():
                    fail(f"Dockerfile: COPY {src}, which does not exist")


def main():
    what = sys.argv[1]
    if what == "metrics":
        check_metrics(sys.argv[2] if len(sys.argv) > 2 else None)
    elif what == "dashboard":
        check_dashboard()
    elif what == "k8s":
        check_k8s(sys.argv[2])
    elif what == "docker":
        check_docker()
    else:
        sys.exit(f"unknown check {what}")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
