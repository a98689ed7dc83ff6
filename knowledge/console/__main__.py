import sys

from knowledge.console.cli import main

sys.exit(main())
