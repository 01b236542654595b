"""Benchmark: the cost of single input checks. Records benchmarks/results/checks.json; asserts nothing.

    python benchmarks/bench_checks.py [--repeat 9]

Measures (median of ``--repeat`` runs):
  * ``validate_us``: microseconds per ``validate`` of one valid value, per identifier kind (200 generated values,
    each validated 100 times per run);
  * ``billion_laughs_ms``: milliseconds to reject a billion-laughs XML document (entity expansion refused at the
    DTD), per XML schema, the schema loaded beforehand.

These figures were once limits in the project's tests (20 000 USCCs under a second, a billion-laughs rejection under
0.5 s); the tests now check the outcomes, and the figures are recorded here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent))

#: The billion-laughs document of tests/test_xml_contracts.py: 15 levels of ten-fold entity references.
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 16)
    )
    + b']>\n<dossierMetadata xmlns="urn:tzsb-conformance:dossier:1"><unitName>&lol15;</unitName></dossierMetadata>'
)


def validate_us(kind: str, repeat: int) -> float | None:
    from conformance.codes import KINDS

    rng = random.Random(1)
    try:
        values = [KINDS[kind].generate(rng) for _ in range(200)]
    except (NotImplementedError, TypeError, ValueError):
        return None
    validate = KINDS[kind].validate
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(100):
            for v in values:
                validate(v)
        runs.append((time.perf_counter() - start) / (100 * len(values)) * 1e6)
    return round(statistics.median(runs), 3)


def billion_laughs_ms(schema: str, repeat: int) -> float:
    from conformance.check.xsd import validate_xml

    validate_xml(b"<warm-up/>", schema)  # load the schema outside the timing
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        issues = validate_xml(BILLION_LAUGHS, schema)
        runs.append((time.perf_counter() - start) * 1000)
        assert len(issues) == 1 and issues[0].layer == "parser", issues  # the benchmark measures the rejection
    return round(statistics.median(runs), 3)


def main() -> None:
    from conformance.check.xsd import schema_names
    from conformance.codes import KINDS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    kinds = {k: validate_us(k, args.repeat) for k in sorted(KINDS)}
    out = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "repeat": args.repeat,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "validate_us": {k: v for k, v in kinds.items() if v is not None},
        "billion_laughs_ms": {s: billion_laughs_ms(s, args.repeat) for s in schema_names()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "checks.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
