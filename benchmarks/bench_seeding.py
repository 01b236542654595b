"""Benchmark: writing the reference server's demo data, in process. Records benchmarks/results/seeding.json;
asserts nothing.

    python benchmarks/bench_seeding.py [--repeat 5]

Measures (median of ``--repeat`` runs, each on a fresh database):
  * ``sharing_seed_s``: the sharing platform's demo data alone (``sharing_seed.seed`` with ``DataGen(1)``);
  * ``start_s``: an in-process ``RunningServer`` per role and seed, from its configuration to accepting requests
    (creates the database, writes the demo data, starts the server).

These figures were once limits in the project's tests (seeding under 3 s, a seeded licensing server up in 1.5 s);
the tests now check what the data is, and the figures are recorded here. Process start-up is
benchmarks/bench_startup.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent))

#: (role, seed) pairs started in process; licensing seed 3 is tests/test_reference_licensing_dossier.py's.
STARTS = [
    ("all", 1),
    ("licensing", 1),
    ("licensing", 3),
    ("gov-platform", 1),
    ("inspection", 1),
    ("supervision", 1),
    ("sharing", 1),
]


def sharing_seed_once() -> float:
    from conformance.datagen import DataGen
    from conformance.reference.audit import AuditLog
    from conformance.reference.db import Database
    from conformance.reference.roles.sharing.handlers import setup
    from conformance.reference.roles.sharing.seed import seed
    from conformance.reference.security import Security, load_clients
    from conformance.reference.server_state import RoleServer

    with tempfile.TemporaryDirectory() as d:
        db = Database(Path(d) / "seed.sqlite3")
        server = RoleServer(role="sharing", db=db, security=Security(load_clients()), audit=AuditLog(db))
        setup(server)
        started = time.perf_counter()
        seed(server, DataGen(1))
        elapsed = time.perf_counter() - started
        db.close()
    return elapsed


def start_once(role: str, seed: int) -> float:
    from conformance.reference.server import RunningServer, ServerConfig

    with tempfile.TemporaryDirectory() as d:
        started = time.perf_counter()
        with RunningServer(ServerConfig(role=role, db=Path(d) / f"{role}.sqlite3", seed=seed, access_log=False)):
            elapsed = time.perf_counter() - started
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sharing_seed_once()  # warm imports and caches (schemas, code lists)
    seeding = [sharing_seed_once() for _ in range(args.repeat)]
    starts: dict[str, float] = {}
    for role, seed in STARTS:
        start_once(role, seed)  # warm
        starts[f"{role} seed {seed}"] = round(statistics.median(start_once(role, seed) for _ in range(args.repeat)), 3)
    out = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "repeat": args.repeat,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "sharing_seed_s": round(statistics.median(seeding), 3),
        "start_s": starts,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "seeding.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
