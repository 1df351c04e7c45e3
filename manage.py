#!/usr/bin/env python
"""Django's command-line entry point for nsmap."""

import os
import sys


def main() -> None:
    os.umask(0o077)  # the database (with its WAL), var/ and the secret key hold sessions and keys: owner only
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
