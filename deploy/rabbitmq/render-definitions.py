#!/usr/bin/env python3
"""Writes deploy/rabbitmq/definitions.json: the topology of deploy/rabbitmq-definitions.json (what
the code declares, kept equal to it by shared/queue/tests/definitions.rs) moved into the dedicated
virtual host, plus that vhost, the service user and its permissions.

    python3 deploy/rabbitmq/render-definitions.py           # rewrite the file
    python3 deploy/rabbitmq/render-definitions.py --check   # fail if it is out of date (CI)

The user has no password in the file (an empty password_hash: no password login is possible until
one is set with `rabbitmqctl change_password cigo ...`, see docs/operations.md): no secret, not even
a hash of one, is committed.
"""
import json
import pathlib
import sys

VHOST = "cigo"
USER = "cigo"
# Every name the service declares starts with "cigo" (prefix ""): "cigo", "cigo.dlx", "cigo.dead",
# "cigo.prevalidazione", "cigo.invio". A deployment with CIGO_QUEUE_PREFIX must widen these.
NAMES = r"^cigo(\..*)?$"

here = pathlib.Path(__file__).resolve().parent
topology = json.loads((here.parent / "rabbitmq-definitions.json").read_text())


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
text = json.dumps(definitions, indent=2) + "\n"
target = here / "definitions.json"
if "--check" in sys.argv[1:]:
    if not target.exists() or target.read_text() != text:
        sys.exit(f"{target} is out of date: run python3 deploy/rabbitmq/render-definitions.py")
    print(f"{target.name}: up to date with rabbitmq-definitions.json")
else:
    target.write_text(text)
    print(f"wrote {target}")
