"""``python -m sibsim``: the same as the ``sibsim`` command."""

import sys

from sibsim.cli import main

sys.exit(main())
