from __future__ import annotations

import sys

from confprov.cli import main

sys.exit(main())
