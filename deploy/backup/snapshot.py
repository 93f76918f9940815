#!/usr/bin/env python3
"""What the API shows of every richiesta, as JSON: the restore drill compares it before the backup
and after the restore. For each richiesta: its view (stato, counters, sha256, size, dates), its
domande (esito, protocollo, findings), its transizioni, and the sha256 of the XML downloaded.

    snapshot.py BASE_URL TOKEN > snapshot.json
"""
import hashlib
import json
import sys
import urllib.request

base, token = sys.argv[1], sys.argv[2]


def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read()


def pages(path, key="items"):
    items, page = [], 1
    while True:
        sep = "&" if "?" in path else "?"
        doc = json.loads(get(f"{path}{sep}page={page}&page_size=100"))
        items += doc[key]
        if len(items) >= doc["total"] or not doc[key]:
            return items
        page += 1


snapshot = {}
for view in pages("/api/v1/richieste"):
    n = view["numero_richiesta"]
    xml = get(f"/api/v1/richieste/{n}/xml")
    snapshot[str(n)] = {
        "view": {k: v for k, v in view.items() if k not in ("azioni", "links")},
        "xml_sha256": hashlib.sha256(xml).hexdigest(),
        "xml_bytes": len(xml),
        "domande": pages(f"/api/v1/richieste/{n}/domande"),
        "transizioni": json.loads(get(f"/api/v1/richieste/{n}/transizioni")),
    }
json.dump(snapshot, sys.stdout, indent=1, sort_keys=True)
