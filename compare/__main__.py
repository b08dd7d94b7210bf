"""``python -m compare`` is ``lockstep``."""
import sys

from .cli import main

sys.exit(main())
