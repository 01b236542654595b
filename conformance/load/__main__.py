"""``python -m conformance.load --target … --role … --profile …`` (the same as ``tzsb-conform load``)."""

import sys

from conformance.load.cli import main

sys.exit(main())
