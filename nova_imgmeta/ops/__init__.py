"""Building blocks of the operator commands (audit, backfill, undo,
checksum, cache-path).

Each module holds one concept. None of them imports an OpenStack client at
import time: the clients come with the ``cli`` extra and are imported
inside the functions that need them.
"""
