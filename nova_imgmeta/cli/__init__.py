"""The ``nova-imgmeta`` operator command."""
