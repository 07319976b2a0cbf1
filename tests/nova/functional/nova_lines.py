# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""What differs between Nova's release lines, for the tests run inside Nova.

One place for the release-line facts and the harness shims of the
real-Nova tier's tests (tools/nova-tier): the functional tests beside this
module (test_lineage_e2e.py, test_refusal_rest.py) and
tests/nova/integration (whose runs put this directory on PYTHONPATH).
Everything here is read from the Nova under test, on every line from Pike
(Python 2.7) to 2026.2 (Python 3.12); nothing names a release.

Importing it imports nova.compute: a functional test module imports the
functional harness first (see the comment at the top of each).
"""

# Before anything else of Nova: from 2024.2 on importing nova.tests is what
# monkey-patches eventlet (nova.monkey_patch).
import nova.tests  # noqa: F401,H306,I100  isort:skip

from nova.compute import api as compute_api
from nova.compute import utils as compute_utils

try:  # added by patch 0002 of the series; absent from unpatched Nova
    from nova.compute import image_metadata_hooks
    HOOKS_IMPORT_ERROR = None
except ImportError as exc:
    image_metadata_hooks = None
    HOOKS_IMPORT_ERROR = exc


def module_source(module):
    """The text of a module's source file.

    Not inspect.getsource(): it walks sys.modules (inspect.getmodule), and
    on 2026.1 (33.0.2) calling it at import left every snapshot of the
    functional harness in task_state image_snapshot (measured; the module
    that reacts was not traced).
    """
    path = module.__file__
    if path.endswith(('.pyc', '.pyo')):
        path = path[:-1]
    with open(path) as handle:
        return handle.read()


# Read once: the release-line checks below look for code in it.
COMPUTE_API_SOURCE = module_source(compute_api)

# Release lines -------------------------------------------------------------
# Stein 19.2.0 and Train 20.2.0 on: booting (or rebuilding onto) an image
# that has cinder_encryption_key_id is refused (400): the tests boot images
# without it and put it into the server's system metadata, as an older
# Nova left it there.
BOOT_REFUSES_ENCRYPTED = hasattr(
    compute_api.API, '_detect_nonbootable_image_from_properties')
# Ussuri 21.2.1 on: upstream's fix of bug 1893618 always sets the rebuild
# image (read from the module's source: decorators hide the method's).
UPSTREAM_REBUILD_FIX = ("new_sys_metadata.update({'image_base_image_ref': "
                        "image_id})" in COMPUTE_API_SOURCE)
# Wallaby on: API.resize sets image_base_image_ref to image_ref (f02899418d,
# the fix of bug 1906428), for resize and cold migration; the patched Nova
# calls the resize hooks there.
RESIZE_SETS_BASE = ("# needed during finish_resize/cross_cell_resize."
                    in COMPUTE_API_SOURCE)
# Ussuri on: properties pristine Nova never lets into a snapshot (bc29084).
NOVA_NEVER_INHERITS = frozenset(
    getattr(compute_utils, 'NON_INHERITABLE_IMAGE_PROPERTIES', ()))
# Wallaby on: and the properties of these namespaces (os_glance, dda179d).
NOVA_NEVER_INHERITS_NAMESPACES = tuple(
    getattr(compute_utils, 'NON_INHERITABLE_IMAGE_NAMESPACES', ()))


# The functional harness ----------------------------------------------------

def image_service(test):
    """Victoria: the GlanceFixture of the harness; before: the fake one."""
    glance = getattr(test, 'glance', None)
    if glance is not None:
        return glance
    import nova.tests.unit.image.fake as fake_image
    return fake_image.FakeImageService()


def wants_api(helper):
    """Train and before: the harness' wait helpers take the API first."""
    code = getattr(helper, '__func__', helper).__code__
    return code.co_varnames[1] == 'admin_api'


def use_installed_hooks(test):
    """Run the hooks of the installed entry points in this test.

    The patched nova.test.TestCase disables them so that Nova's own tests
    are not affected; these tests want them (the nova_imgmeta plugin when
    it is installed), loaded afresh and forgotten after the test.
    """
    if image_metadata_hooks is not None:
        image_metadata_hooks.reset()
        test.addCleanup(image_metadata_hooks.reset)
    try:
        from nova_imgmeta import dispatch
    except ImportError:   # the pristine tree's run without the plugin
        return
    dispatch.reset()
    test.addCleanup(dispatch.reset)


class HarnessMixin(object):
    """The harness' wait helpers under the same names on every line."""

    def _wait_for_status(self, server, status):
        if wants_api(self._wait_for_state_change):
            return self._wait_for_state_change(self.api, server, status)
        return self._wait_for_state_change(server, status)

    def _wait_for_params(self, server, params):
        if wants_api(self._wait_for_server_parameter):
            return self._wait_for_server_parameter(self.api, server, params)
        return self._wait_for_server_parameter(server, params)
