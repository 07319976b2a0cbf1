# Copyright nova-imgmeta contributors
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""What the plugin keeps per process: its options, policy chains and mode.

On first use, under one lock, the ``[nova_imgmeta]`` options are
registered on Nova's ``cfg.CONF`` (the only place that registers them in
Nova), then the chain asked for is loaded; each chain is loaded once per
process. The option ``snapshot_on_error`` is read on its own
(:func:`snapshot_failure_mode`), so that a chain that cannot be loaded at
all is still handled as configured. :func:`reset` is
the tests' seam.
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging

from nova_imgmeta import exceptions
from nova_imgmeta import loader
from nova_imgmeta import opts
from nova_imgmeta import settings

__all__ = ['get_chain', 'snapshot_failure_mode', 'reset']

LOG = logging.getLogger(__name__)

_LOCK = threading.RLock()
_STATE = {
    'conf': None,         # None: cfg.CONF
    'managers': {},       # kind -> ready stevedore manager (tests only)
    'registered': False,  # options registered on the conf in use
    'chains': {},         # kind -> loader.PolicyChain
    'on_error': None,     # (mode, why) once read
}


def _conf():
    return _STATE['conf'] if _STATE['conf'] is not None else cfg.CONF


def _register(conf):
    if not _STATE['registered']:
        opts.register_opts(conf)
        _STATE['registered'] = True


def get_chain(kind):
    """Return the loaded chain of ``kind``, loading it on first use.

    :raises Exception: only when nova-imgmeta itself cannot load (a policy's
        failure is in ``chain.errors``); the hooks contain it.
    """
    chain = _STATE['chains'].get(kind)
    if chain is not None:
        return chain
    with _LOCK:
        chain = _STATE['chains'].get(kind)
        if chain is None:
            conf = _conf()
            _register(conf)
            chain = loader.build_chain(kind, conf,
                                       manager=_STATE['managers'].get(kind))
            if kind == 'snapshot':
                snapshot_failure_mode()   # an invalid mode is logged now
            for error in chain.errors:
                LOG.error('nova-imgmeta: %s: the policy is not applied',
                          exceptions.describe(error))
            LOG.info('nova-imgmeta: %s policies loaded: %s', kind,
                     chain.describe())
            _STATE['chains'][kind] = chain
    return chain


def snapshot_failure_mode():
    """Return ``(mode, why)``: ``'open'`` or ``'closed'``, and why closed.

    The mode is the option ``snapshot_on_error``. ``why`` is None when the
    option says ``closed``; otherwise it tells why the mode is ``closed``
    although the option does not say so: a value that is not ``open`` or
    ``closed``, or an option that could not be read at all. Read once per
    process.
    """
    found = _STATE['on_error']
    if found is not None:
        return found
    with _LOCK:
        if _STATE['on_error'] is None:
            _STATE['on_error'] = _read_on_error()
        return _STATE['on_error']


def _read_on_error():
    conf = _conf()
    try:
        _register(conf)
    except Exception as exc:   # the mode is read all the same
        LOG.error('nova-imgmeta: cannot register the [nova_imgmeta] '
                  'options: %s', exceptions.describe(exc))
    try:
        mode = settings.get_option(conf, 'snapshot_on_error')
    except Exception as exc:
        why = exceptions.describe(exc)
        LOG.error('nova-imgmeta: %s; a failing snapshot policy refuses the '
                  'snapshot (snapshot_on_error = closed) until it is fixed',
                  why)
        return 'closed', why
    return mode, None


def reset(conf=None, managers=None):
    """Forget the loaded chains and mode. For tests only.

    :param conf: ConfigOpts to use instead of ``cfg.CONF``.
    :param managers: ``{'rebuild'|'snapshot': manager}`` of ready stevedore
        managers (``make_test_instance``) used instead of the entry points.
    """
    with _LOCK:
        _STATE['conf'] = conf
        _STATE['managers'] = dict(managers or {})
        _STATE['registered'] = False
        _STATE['chains'] = {}
        _STATE['on_error'] = None
