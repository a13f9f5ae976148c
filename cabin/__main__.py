import sys

from cabin.main import main

if __name__ == "__main__":  # a "spawn" child process imports this module again as __mp_main__
    sys.exit(main())
