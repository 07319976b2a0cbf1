"""A plugin module that fails to import (for nova-imgmeta's tests)."""

import nova_imgmeta_example_missing_dependency  # noqa: F401


class Broken(object):
    pass
