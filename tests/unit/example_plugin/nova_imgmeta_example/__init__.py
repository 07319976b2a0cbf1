"""Example operator policies for nova-imgmeta (see doc/source/plugins.rst)."""
