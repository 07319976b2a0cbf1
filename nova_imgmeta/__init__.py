"""nova-imgmeta: image-metadata fixes and policies for Nova Pike and Queens.

Nova calls this package through two stevedore entry points (see
``nova_imgmeta.dispatch``); operators use the ``nova-imgmeta`` command
(``nova_imgmeta.cli``).
"""
