"""python3 -m ovtool: the same as ./ov."""

import sys

from ovtool.cli import main

sys.exit(main())
