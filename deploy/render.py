#!/usr/bin/env python3
"""Renders the deploy/ files that are derived from another one, so that each fact has one source:

- rabbitmq/definitions.json   from rabbitmq-definitions.json (the topology the code declares, kept
                              equal to it by shared/queue/tests/definitions.rs), moved into the
                              dedicated vhost "cigo", with the service user and its permissions;
- k8s/base/prometheusrule.yaml from prometheus/alerts.yaml (the alert rules compose loads);
- grafana/cigo.json           the dashboard, from the panel list below.

    python3 deploy/render.py           # rewrite them
    python3 deploy/render.py --check   # fail if any is out of date (.ci/deploy-check.sh)

The RabbitMQ user has no password in the file (an empty password_hash: no password login is
possible until one is set with `rabbitmqctl change_password cigo ...`, docs/operations.md): no
secret, not even a hash of one, is committed.
"""
import json
import pathlib
import sys

import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent

# --- RabbitMQ -------------------------------------------------------------------------------------

VHOST = "cigo"
USER = "cigo"
# Every name the service declares starts with "cigo" (queue prefix ""): "cigo", "cigo.dlx",
# "cigo.dead", "cigo.prevalidazione", "cigo.invio". A deployment with CIGO_QUEUE_PREFIX must widen these.
NAMES = r"^cigo(\..*)?$"


def rabbitmq_definitions():
    topology = json.loads((DEPLOY / "rabbitmq-definitions.json").read_text())

    def in_vhost(items):
        return [{**item, "vhost": VHOST} for item in items]

    definitions = {
        "users": [
            {
                "name": USER,
                "password_hash": "",
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
                "limits": {},
            }
        ],
        "vhosts": [{"name": VHOST, "description": "cigo: job queues and dead letters", "tags": [], "metadata": {}}],
        "permissions": [{"user": USER, "vhost": VHOST, "configure": NAMES, "write": NAMES, "read": NAMES}],
        "exchanges": in_vhost(topology["exchanges"]),
        "queues": in_vhost(topology["queues"]),
        "bindings": in_vhost(topology["bindings"]),
    }
    return json.dumps(definitions, indent=2) + "\n"


# --- PrometheusRule -------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Indents sequences under their key (as yamllint wants) and writes multi-line strings as blocks."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def prometheus_rule():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "cigo", "labels": {"app.kubernetes.io/name": "cigo"}},
        "spec": {"groups": rules["groups"]},
    }
    header = (
        "# Rendered by deploy/render.py from deploy/prometheus/alerts.yaml: edit that file, then run\n"
        "# python3 deploy/render.py. (Read by the Prometheus Operator; the alerts: docs/operations.md.)\n"
    )
    return header + yaml.dump(resource, Dumper=_Dumper, sort_keys=False, width=120)


# --- Grafana dashboard ----------------------------------------------------------------------------

DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
QUEUES = 'queue=~"(.*)cigo\\\\.(prevalidazione|invio)"'
DEAD = 'queue=~"(.*)cigo\\\\.dead"'


def target(expr, legend, ref):
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref, "range": True}


def panel(kind, title, exprs, x, y, w=8, h=8, unit="short", description="", **options):
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": options or {},
        "targets": [target(e, legend, chr(ord("A") + i)) for i, (e, legend) in enumerate(exprs)],
    }
    return p


def quantiles(histogram, by="", legend=""):
    """p50 and p99 of a histogram, as (expr, legend) pairs (`by`: labels kept besides le)."""
    labels = ", ".join(["le"] + ([by] if by else []))
    return [
        (f"histogram_quantile({q}, sum by ({labels}) (rate({histogram}_bucket[{RATE}])))", f"{legend}p{p}".strip())
        for q, p in (("0.5", 50), ("0.99", 99))
    ]


def row(title, y):
    return {"type": "row", "title": title, "collapsed": False, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []}


def dashboard():
    ts, stat, gauge = "timeseries", "stat", "gauge"
    panels = [
        row("Flow", 0),
        panel(ts, "Uploads accepted /s", [
            (f"sum(rate(cigo_richieste_accettate_total[{RATE}]))", "accepted"),
            (f"sum(rate(cigo_upload_duplicates_total[{RATE}]))", "duplicates (409)"),
            (f"sum(rate(cigo_upload_replays_total[{RATE}]))", "Idempotency-Key replays"),
        ], 0, 1, unit="reqps", description="Richieste that got a 202 (cigo api)."),
        panel(ts, "Domande prevalidated /s by esito", [
            (f"sum by (esito) (rate(cigo_domande_prevalidate_total[{RATE}]))", "{{esito}}"),
        ], 8, 1, description="cigo worker: domande valide and scartate."),
        panel(ts, "Domande protocollate /s", [
            (f"sum(rate(cigo_domande_protocollate_total[{RATE}]))", "protocollate"),
        ], 16, 1, description="cigo sender: domande given a protocol number."),
        panel(ts, "Prevalidation time of a richiesta (p50, p99)", quantiles("cigo_prevalidazione_seconds"), 0, 9, unit="s", description="From the job's start to the esito saved, in the worker. The time from "
           "the upload to the esito adds the queue wait: see Queue lag."),
        panel(ts, "Job time by kind (p50, p99)", quantiles("cigo_job_seconds", "kind", "{{kind}} "), 8, 9, unit="s"),
        panel(ts, "Jobs /s by kind and outcome", [
            (f"sum by (kind, outcome) (rate(cigo_jobs_total[{RATE}]))", "{{kind}} {{outcome}}"),
            (f"sum by (kind) (rate(cigo_job_retries_total[{RATE}]))", "{{kind}} retries"),
        ], 16, 9, unit="ops"),
        row("Queues", 17),
        panel(ts, "Queue depth", [
            (f"sum by (queue) (rabbitmq_queue_messages_ready{{{QUEUES}}})", "{{queue}} ready"),
            (f"sum by (queue) (rabbitmq_queue_messages_unacked{{{QUEUES}}})", "{{queue}} in progress"),
        ], 0, 18, description="RabbitMQ: messages waiting and delivered but not yet acked."),
        panel(ts, "Queue lag (oldest message waiting)", [
            ("max by (queue) (cigo_queue_oldest_message_age_seconds)", "{{queue}}"),
        ], 8, 18, unit="s", description="Not exported yet: see deploy/metrics-pending.txt."),
        panel(ts, "Dead letters", [
            (f"sum(rabbitmq_queue_messages{{{DEAD}}})", "waiting in the dead-letter queue"),
            ("sum by (kind) (increase(cigo_jobs_dead_lettered_total[1h]))", "{{kind}} dead-lettered in the last hour"),
        ], 16, 18, description="Replay with `cigo admin dlq replay` (docs/operations.md)."),
        row("SLA", 26),
        panel(gauge, "Esiti within the SLA (last 24 h)", [
            ("min(cigo_sla_finished_within_ratio)", "ratio"),
        ], 0, 27, w=6, unit="percentunit", description="cigo_sla_finished_within_ratio: alert below 99%."),
        panel(stat, "Oldest unfinished richiesta", [
            ("max(cigo_sla_oldest_unfinished_seconds)", "age"),
        ], 6, 27, w=6, unit="s"),
        panel(ts, "Richieste re-queued by the SLA reaper", [
            (f"sum(increase(cigo_sla_requeued_total[{RATE}]))", "re-queued"),
        ], 12, 27, w=12),
        row("HTTP", 35),
        panel(ts, "HTTP answers /s by status", [
            (f"sum by (status) (rate(cigo_http_requests_total{{status=~\"[45]..\"}}[{RATE}]))", "{{status}}"),
        ], 0, 36, unit="reqps", description="4xx and 5xx; a 5xx share above 1% alerts."),
        panel(ts, "HTTP latency p99 by route", [
            (f"histogram_quantile(0.99, sum by (le, route) (rate(cigo_http_request_seconds_bucket[{RATE}])))", "{{route}}"),
        ], 8, 36, unit="s"),
        panel(ts, "Upload volume", [
            (f"sum(rate(cigo_upload_bytes_total[{RATE}]))", "bytes/s"),
        ], 16, 36, unit="Bps"),
        row("Dependencies", 44),
        panel(stat, "Database up", [
            ("min(pg_up)", "postgres_exporter"),
            ("min(cigo_dependency_up{dependency=\"database\"})", "as cigo sees it"),
        ], 0, 45, w=6, description="pg_up from postgres_exporter; cigo_dependency_up is not exported yet."),
        panel(stat, "Broker up", [
            ("min(up{job=\"rabbitmq\"})", "scrape"),
            ("max(rabbitmq_alarms_memory_used_watermark) + max(rabbitmq_alarms_free_disk_space_watermark)", "alarms"),
            ("min(cigo_dependency_up{dependency=\"broker\"})", "as cigo sees it"),
        ], 6, 45, w=6),
        panel(ts, "Outbox relay", [
            (f"sum(rate(cigo_outbox_published_total[{RATE}]))", "published /s"),
            (f"sum(rate(cigo_outbox_publish_failures_total[{RATE}]))", "publish failures /s"),
        ], 12, 45, w=6, description="Failures with nothing published: the broker is unreachable (uploads go on)."),
        panel(ts, "Consumers per queue", [
            (f"sum by (queue) (rabbitmq_queue_consumers{{{QUEUES}}})", "{{queue}}"),
        ], 18, 45, w=6),
    ]
    for i, p in enumerate(panels, start=1):
        p["id"] = i
    doc = {
        "uid": "cigo-overview",
        "title": "cigo",
        "description": "Uploads, prevalidation, sending, queues, SLA, HTTP and dependencies (docs/operations.md).",
        "tags": ["cigo"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
                 "current": {}, "hide": 0, "refresh": 1, "options": []}
            ]
        },
        "annotations": {"list": []},
        "links": [],
        "panels": panels,
    }
    return json.dumps(doc, indent=2) + "\n"


OUTPUTS = {
    DEPLOY / "rabbitmq" / "definitions.json": rabbitmq_definitions,
    DEPLOY / "k8s" / "base" / "prometheusrule.yaml": prometheus_rule,
    DEPLOY / "grafana" / "cigo.json": dashboard,
}


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for path, render in OUTPUTS.items():
        text = render()
        rel = path.relative_to(DEPLOY.parent)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(rel))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {rel}")
    if stale:
        sys.exit(f"out of date: {', '.join(stale)}: run python3 deploy/render.py")
    if check:
        print(f"up to date: {len(OUTPUTS)} rendered files")


if __name__ == "__main__":
    main()
