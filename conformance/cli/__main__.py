"""``python -m conformance.cli``: the same as ``tzsb-conform``."""

import sys

from conformance.cli import main

sys.exit(main())
