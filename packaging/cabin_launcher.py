"""The frozen app's entry point (Cabin.app, the Linux folder app): the `cabin` command (cabin/main.py).

Double-clicked, it opens the window; with arguments it is the command line (`Cabin --selftest`).
"""

import multiprocessing
import sys

if __name__ == "__main__":
    # Model conversion and export run in "spawn" child processes, which re-enter this executable.
    multiprocessing.freeze_support()

    from cabin.main import main

    sys.exit(main())
