"""``python -m sibsim``: the same as the ``sibsim`` command."""

import signal
import sys


def _stopped(signum, frame):  # until the command line installs its own handlers
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _stopped)
try:
    from sibsim.cli import main
except KeyboardInterrupt:
    print("sibsim: interrupted while starting (no result written)", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
