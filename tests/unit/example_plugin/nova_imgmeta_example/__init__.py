"""Example operator policies for nova-imgmeta (see doc/plugins.md)."""
