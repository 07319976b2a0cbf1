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

"""``nova-imgmeta check-config``: check [nova_imgmeta] in nova.conf.

Loads the given configuration file(s) with oslo.config exactly as Nova does,
registers the options of nova-imgmeta, reads every one of them, reports the
keys of ``[nova_imgmeta]`` that are no option (oslo.config ignores them)
and loads the configured policy chains the way the hooks do. Every problem
is printed with the option's name. Exit status: 0 when all is fine, 1 when
problems were found, 2 when a file cannot be read or parsed or a chain
could not be loaded at all (nothing checked). A broken policy is a
problem, never a traceback.
"""

from __future__ import print_function

import os
import sys

__all__ = ['register', 'run', 'check']

#: A chain that could not be loaded at all: nothing could be checked, so
#: the exit status is 2 ("unknown"), not 1.
UNCHECKED = u'[nova_imgmeta] %s: the policies could not be loaded: %s'


def register(subparsers):
    """Add the ``check-config`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser(
        'check-config',
        help='check the [nova_imgmeta] options of nova.conf',
        description='Check the [nova_imgmeta] options of nova.conf and load '
                    'the configured policies as Nova would, before '
                    'restarting it. Exit status: 0 fine, 1 problems, '
                    '2 unreadable configuration.')
    parser.add_argument(
        '--config-file', dest='config_files', action='append',
        required=True, metavar='PATH',
        help='a nova.conf to check (repeat for several, later ones win, '
             'as with nova-api)')
    parser.set_defaults(func=run)
    return parser


def _unknown_options(conf, known):
    """Problems for the keys of ``[nova_imgmeta]`` that are no option.

    oslo.config ignores them: ``snapshot_on_eror = closed`` would leave
    fail-closed silently off.
    """
    import difflib

    from oslo_config import cfg

    problems = []
    for path in conf.config_file or []:
        sections = {}
        cfg.ConfigParser(path, sections).parse()
        for key in sections.get('nova_imgmeta', {}):
            if key in known:
                continue
            text = '[nova_imgmeta] %s: unknown option (in %s)' % (key, path)
            close = difflib.get_close_matches(key, sorted(known), n=1)
            if close:
                text += '; did you mean %s?' % close[0]
            problems.append(text)
    return problems


def check(conf):
    """Return ``(problems, notes)`` for the ``[nova_imgmeta]`` options.

    :param conf: a parsed ConfigOpts.
    :returns: two lists of strings: problems (each names its option) and
        informative notes (what would be loaded).
    """
    from nova_imgmeta import exceptions
    from nova_imgmeta import loader
    from nova_imgmeta import opts
    from nova_imgmeta.policies import base
    from nova_imgmeta.policies import patterns
    from nova_imgmeta import settings

    def add(problem):
        if problem not in problems:
            problems.append(problem)

    opts.register_opts(conf)
    problems = []
    notes = []
    known = set()
    for opt in opts.all_opts():
        known.add(opt.dest)
        try:
            settings.get_option(conf, opt.dest)
        except exceptions.ConfigError as exc:
            add(exceptions.describe(exc))
    for problem in _unknown_options(conf, known):
        add(problem)
    # Patterns are checked even when the patterns policy is not enabled.
    for name in ('deny_patterns', 'allow_only_patterns'):
        try:
            patterns.compile_patterns(name, settings.get_option(conf, name))
        except exceptions.ConfigError as exc:
            add(exceptions.describe(exc))
    for kind in base.KINDS:
        try:
            chain = loader.build_chain(kind, conf)
        except BaseException as exc:   # not a policy's fault: ours
            if exceptions.propagates(exc):
                raise
            add(UNCHECKED % ('%s_policies' % kind, exceptions.describe(exc)))
            continue
        for error in chain.errors:
            text = exceptions.describe(error)
            if not any(problem in text for problem in problems):
                add(text)
        notes.append('%s policies: %s' % (kind, chain.describe()))
    try:
        configured = settings.get_option(conf, 'snapshot_policies') or []
    except exceptions.ConfigError:
        configured = []
    if 'patterns' not in configured:
        for name in ('deny_patterns', 'allow_only_patterns'):
            try:
                unused = settings.get_option(conf, name)
            except exceptions.ConfigError:
                continue
            if unused:
                notes.append('note: [nova_imgmeta] %s is set but the '
                             'patterns policy is not in snapshot_policies'
                             % name)
    return problems, notes


def _emit(text, stream=None):
    """Print ``text``; characters the stream cannot encode are escaped.

    Python 2 (or a C locale) cannot print a non-ASCII message, which a
    plugin's error may hold, to a pipe: that must not become a traceback
    and an exit status of 1.
    """
    stream = stream or sys.stdout
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, 'encoding', None) or 'ascii'
        print(text.encode(encoding, 'backslashreplace').decode(encoding),
              file=stream)


def run(args):
    """Run the sub-command for parsed ``args``; return the exit status."""
    from oslo_config import cfg

    for path in args.config_files:
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            _emit(u'nova-imgmeta check-config: cannot read %s' % path,
                  sys.stderr)
            return 2
    conf = cfg.ConfigOpts()
    argv = []
    for path in args.config_files:
        argv.extend(['--config-file', path])
    try:
        conf(args=argv, project='nova', default_config_files=[])
    except (cfg.Error, IOError, OSError, ValueError) as exc:
        from nova_imgmeta import exceptions
        _emit(u'nova-imgmeta check-config: cannot parse %s: %s'
              % (', '.join(args.config_files), exceptions.describe(exc)),
              sys.stderr)
        return 2
    problems, notes = check(conf)
    for note in notes:
        _emit(note)
    for problem in problems:
        _emit(u'ERROR: %s' % problem)
    if problems:
        _emit(u'%d problem(s) in %s' % (len(problems),
                                        ', '.join(args.config_files)))
        unchecked = UNCHECKED.split('%s')[1]
        return 2 if any(unchecked in problem for problem in problems) else 1
    _emit(u'OK: [nova_imgmeta] in %s' % ', '.join(args.config_files))
    return 0
