"""Built-in policies, each an entry point of nova-imgmeta (see setup.cfg)."""
