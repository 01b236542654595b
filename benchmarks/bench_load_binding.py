"""Benchmark: what a binding's translation costs the load generator per request (``tzsb-conform load`` through a
binding, docs/bindings.md "Load through a binding"). Records benchmarks/results/load_binding.json; asserts nothing.

    python benchmarks/bench_load_binding.py [--binding bindings/gateway/binding.yaml] [--repeat 7] [--n 50]

The reference server's sharing role (demo data of seed 1) serves the binding's dialect in this process. Each kind of
request the sharing locustfile makes is built canonically, translated with the load's own translation
(``conformance.load.dialects.Translation``: ``Dialect.vendor_request``, then ``Dialect.canonical_answer`` on the
server's real answer), sent once to check it succeeds, and then translated ``--n`` times, both ways, on the answer
captured; the median over ``--repeat`` runs of the microseconds per request (its answer included) is recorded.
The network and the server are not in the figure: it is the harness's own CPU time, which in a load run is spent in
the generator's event loop (its CPU and loop lag are what the load's saturation check judges).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))


def main() -> int:
    from conformance.client.token import read_token, token_form, token_path
    from conformance.datagen.sharing import Builder
    from conformance.load.dialects import Translation
    from conformance.reference.server import RunningServer, ServerConfig

    ap = argparse.ArgumentParser()
    ap.add_argument("--binding", type=Path, default=ROOT / "bindings" / "gateway" / "binding.yaml")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--n", type=int, default=50)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-load-binding-"))
    cfg = ServerConfig(role="sharing", db=tmp / "ref.sqlite3", seed=1, access_log=False, binding=args.binding)
    with RunningServer(cfg) as server:
        base = server.url("sharing").rstrip("/")
        secret = "harness-secret"
        tr = Translation.open(str(args.binding), None, {"sharing": base}, lambda: [secret])
        session = requests.Session()

        def exchange(method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[Any, Any]:
            sent = tr.outbound(method, url, headers, body)
            r = session.request(method, sent.url, headers=sent.headers, data=sent.body, timeout=30)
            return sent, (r.status_code, r.headers, r.content)

        plain = {"Accept": "application/json", "User-Agent": "tzsb-conformance-load"}
        form = urlencode(token_form("harness", secret)).encode()
        token_headers = {**plain, "Content-Type": "application/x-www-form-urlencoded"}
        sent, (status, rh, content) = exchange("POST", base + token_path(), token_headers, form)
        status, _, content = tr.inbound(sent, status, rh, content)
        token = read_token(status, content)
        assert token is not None, "no token through the binding"
        auth = {**plain, "Authorization": f"Bearer {token.value}"}
        sent, answer = exchange("GET", base + "/api/v1/equipment?page=1&size=100", auth, None)
        page = orjson.loads(tr.inbound(sent, *answer)[2])["data"]
        key = page["items"][0]["equipmentCode"]
        _, records = Builder("42", seed=1).make("equipment", 100)
        push = {
            "messageId": "bench-load-binding-1",
            "sentAt": dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds"),
            "records": [{"operation": "UPLOAD", "key": r["equipmentCode"], "record": r} for r in records],
        }
        kinds = {
            "token": ("POST", base + token_path(), token_headers, form),
            "get_by_key": ("GET", f"{base}/api/v1/equipment/{quote(key, safe='')}", auth, None),
            "page_of_100": ("GET", base + "/api/v1/equipment?page=1&size=100", auth, None),
            "changes_of_100": ("GET", base + "/api/v1/equipment/changes?limit=100", auth, None),
            "push_of_100": (
                "POST",
                base + "/api/v1/equipment/push",
                {**auth, "Content-Type": "application/json"},
                orjson.dumps(push),
            ),
        }
        figures: dict[str, dict[str, Any]] = {}
        for name, (method, url, headers, body) in kinds.items():
            sent, (status, rh, content) = exchange(method, url, headers, body)
            canonical_status = tr.inbound(sent, status, rh, content)[0]
            assert 200 <= canonical_status < 300, (name, canonical_status, content[:300])
            runs = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                for _ in range(args.n):
                    again = tr.outbound(method, url, headers, body)
                    tr.inbound(again, status, rh, content)
                runs.append((time.perf_counter() - start) / args.n * 1e6)
            figures[name] = {
                "us_per_request": round(statistics.median(runs), 1),
                "answer_bytes": len(content),
                "request_bytes": len(sent.body or b""),
            }
            print(f"{name:15s} {figures[name]['us_per_request']:>10.1f} µs per request with its answer")

    result = {
        "date": dt.date.today().isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "binding": str(args.binding.resolve().relative_to(ROOT))
        if args.binding.resolve().is_relative_to(ROOT)
        else str(args.binding),
        "repeat": args.repeat,
        "n": args.n,
        "translation": figures,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load_binding.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
