"""``python -m conformance.cli``: the same as ``tzsb-conform``."""

from conformance.cli import main

raise SystemExit(main())
