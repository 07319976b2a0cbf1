# -*- coding: utf-8 -*-
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

import os
import subprocess
import sys

import pytest

from nova_imgmeta.cli import main
from nova_imgmeta import compat


def run(tmp_path, capsys, text, name='nova.conf'):
    path = tmp_path / name
    path.write_text(u'' + text)
    code = main.main(['check-config', '--config-file', str(path)])
    out, err = capsys.readouterr()
    return code, out + err


def test_good_config(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[DEFAULT]\ndebug = true\n[nova_imgmeta]\n'
                    u'deny_patterns = hw_*,owner_*\n'
                    u'base_image_ref_mode = upstream\n')
    assert code == 0, out
    assert 'snapshot policies: heal, never-inherit, patterns, truncated' in out


def test_empty_config_is_fine(tmp_path, capsys):
    code, out = run(tmp_path, capsys, u'')
    assert code == 0, out


@pytest.mark.parametrize('text,expected', [
    ('snapshot_policies = heal,no-such-policy',
     "policy 'no-such-policy' listed in [nova_imgmeta] snapshot_policies"),
    ('rebuild_policies = heal',
     "policy 'heal' listed in [nova_imgmeta] rebuild_policies: unknown"),
    ('deny_patterns = hw_[x', '[nova_imgmeta] deny_patterns'),
    ('allow_only_patterns = ok,a[z-b]', '[nova_imgmeta] allow_only_patterns'),
    ('base_image_ref_mode = victoria', '[nova_imgmeta] base_image_ref_mode'),
    ('snapshot_on_error = ajar', '[nova_imgmeta] snapshot_on_error'),
    ('truncated_values = restore', '[nova_imgmeta] truncated_values'),
])
def test_problems_name_the_option(tmp_path, capsys, text, expected):
    code, out = run(tmp_path, capsys, u'[nova_imgmeta]\n%s\n' % text)
    assert code == 1, out
    assert expected in out
    assert 'ERROR' in out


def test_several_problems_are_all_reported(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\nsnapshot_policies = nope\n'
                    u'base_image_ref_mode = x\n')
    assert code == 1
    assert out.count('ERROR') == 2
    assert '2 problem(s)' in out


def test_missing_file(tmp_path, capsys):
    code = main.main(['check-config', '--config-file',
                      str(tmp_path / 'absent.conf')])
    assert code == 2
    assert 'cannot read' in capsys.readouterr()[1]


def test_unparsable_file(tmp_path, capsys):
    code, out = run(tmp_path, capsys, u'this is not [an ini file\n')
    assert code == 2
    assert 'cannot parse' in out


def test_patterns_are_checked_even_when_the_policy_is_off(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\nsnapshot_policies = heal\n'
                    u'deny_patterns = hw_[x\n')
    assert code == 1
    assert '[nova_imgmeta] deny_patterns' in out


def test_note_when_patterns_are_set_but_unused(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\nsnapshot_policies = heal\n'
                    u'deny_patterns = hw_*\n')
    assert code == 0
    assert 'patterns policy is not in snapshot_policies' in out


def test_real_looking_nova_conf(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[DEFAULT]\nstate_path = /var/lib/nova\n'
                    u'instances_path = $state_path/instances\n'
                    u'non_inheritable_image_properties = cache_in_nova\n'
                    u'[glance]\napi_servers = http://glance:9292\n'
                    u'[nova_imgmeta]\nsnapshot_on_error = closed\n'
                    u'snapshot_policies = heal,never-inherit\n')
    assert code == 0, out
    assert 'snapshot policies: heal, never-inherit' in out


def test_several_config_files_later_wins(tmp_path, capsys):
    first = tmp_path / 'nova.conf'
    first.write_text(u'[nova_imgmeta]\nbase_image_ref_mode = wrong\n')
    second = tmp_path / 'override.conf'
    second.write_text(u'[nova_imgmeta]\nbase_image_ref_mode = upstream\n')
    code = main.main(['check-config', '--config-file', str(first),
                      '--config-file', str(second)])
    assert code == 0, capsys.readouterr()


@pytest.mark.parametrize('typo,meant', [
    ('snapshot_on_eror', 'snapshot_on_error'),
    ('deny_pattern', 'deny_patterns'),
])
def test_unknown_option_is_an_error(tmp_path, capsys, typo, meant):
    """oslo.config ignores it: fail-closed would be silently off."""
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\n%s = closed\n' % typo)
    assert code == 1, out
    assert 'ERROR: [nova_imgmeta] %s: unknown option' % typo in out
    assert 'did you mean %s?' % meant in out
    assert str(tmp_path / 'nova.conf') in out


def test_unknown_option_in_the_second_file(tmp_path, capsys):
    first = tmp_path / 'nova.conf'
    first.write_text(u'[nova_imgmeta]\nsnapshot_on_error = closed\n')
    second = tmp_path / 'override.conf'
    second.write_text(u'[nova_imgmeta]\ntruncated = drop\n')
    code = main.main(['check-config', '--config-file', str(first),
                      '--config-file', str(second)])
    out = capsys.readouterr()[0]
    assert code == 1
    assert '[nova_imgmeta] truncated: unknown option (in %s)' % second in out


def test_options_of_other_sections_are_not_ours(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[DEFAULT]\nsnapshot_on_eror = x\n[glance]\nfoo = 1\n')
    assert code == 0, out


def test_no_unused_note_for_a_listed_but_broken_patterns_policy(tmp_path,
                                                                capsys):
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\ndeny_patterns = hw_[x\n')
    assert code == 1
    assert '[nova_imgmeta] deny_patterns' in out
    assert 'not in snapshot_policies' not in out
    assert out.count('ERROR') == 1


def test_messages_carry_no_location_info_noise(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\nsnapshot_on_error = ajar\n')
    assert code == 1
    assert 'LocationInfo' not in out
    assert "ERROR: [nova_imgmeta] snapshot_on_error: Value for option " \
           "snapshot_on_error" in out
    assert 'ajar' in out


def test_policy_with_a_wrong_signature_is_reported(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\nsnapshot_policies = heal,'
                    u'broken-signature\n')
    assert code == 1
    assert "policy 'broken-signature'" in out and 'requires flavor' in out


def test_non_ascii_patterns_are_fine(tmp_path, capsys):
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\ndeny_patterns = clé_*\n')
    assert code == 0, out


@pytest.mark.skipif(not compat.PY2,
                    reason='Python 3 does not parse such a file')
def test_pattern_that_is_not_utf8_is_an_error(tmp_path, capsys):
    path = tmp_path / 'nova.conf'
    path.write_bytes(b'[nova_imgmeta]\ndeny_patterns = cl\xe9_*\n')
    code = main.main(['check-config', '--config-file', str(path)])
    out = capsys.readouterr()[0]
    assert code == 1
    assert 'not valid UTF-8' in out


def test_non_ascii_problem_in_a_c_locale_is_no_traceback(tmp_path):
    """Python 2.7 and 3.6 cannot print it to a pipe in the C locale: the
    traceback used to end check-config with the 'problems' status, 1.
    """
    path = tmp_path / 'nova.conf'
    path.write_text(u'[nova_imgmeta]\nsnapshot_policies = broken-non-ascii\n')
    env = dict((key, value) for key, value in os.environ.items()
               if not key.startswith(('LC_', 'PYTHONIOENCODING',
                                      'PYTHONUTF8')))
    env.update(LANG='C', LC_ALL='C')
    proc = subprocess.Popen(
        [sys.executable, '-m', 'nova_imgmeta.cli.main', 'check-config',
         '--config-file', str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.communicate()
    assert proc.returncode == 1, err
    assert b'Traceback' not in err
    assert b'pendance manquante' in out


@pytest.mark.parametrize('name,expected', [
    # issue 17, item 1: used to end in a NoSuchOptError traceback
    ('broken-idle-option', 'reading its idle attribute raised '
                           'NoSuchOptError'),
    ('broken-apply-timeout', 'reading its apply attribute raised Timeout'),
    # issue 17, item 2: used to say OK
    ('broken-generator', 'a generator function'),
])
def test_broken_policy_is_a_problem_not_a_traceback(tmp_path, capsys, name,
                                                    expected):
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\nsnapshot_policies = heal,%s,'
                    u'never-inherit\nrebuild_policies = %s\n' % (name, name))
    assert code == 1, out
    assert "ERROR: policy '%s' listed in [nova_imgmeta] snapshot_policies" \
        % name in out
    assert "ERROR: policy '%s' listed in [nova_imgmeta] rebuild_policies" \
        % name in out
    assert expected in out
    assert 'snapshot policies: heal, never-inherit' in out
    assert 'Traceback' not in out


@pytest.mark.skipif(sys.version_info < (3, 5), reason='async def')
def test_async_policy_is_reported(tmp_path, capsys):
    """It used to load: check-config said OK."""
    code, out = run(tmp_path, capsys,
                    u'[nova_imgmeta]\nsnapshot_policies = broken-async\n')
    assert code == 1, out
    assert "policy 'broken-async'" in out
    assert 'a coroutine function (async def)' in out
    assert 'OK' not in out


def test_check_config_reports_a_loader_that_breaks(tmp_path, capsys,
                                                   monkeypatch):
    """Whatever escapes the loader is reported, not a traceback with the
    "problems" status: the chains could not be checked (exit 2).
    """
    from nova_imgmeta import loader

    def explode(kind, conf, manager=None):
        raise RuntimeError('loader bug')

    monkeypatch.setattr(loader, 'build_chain', explode)
    code, out = run(tmp_path, capsys, u'[nova_imgmeta]\n')
    assert code == 2, out   # the chains could not be checked
    assert 'ERROR: [nova_imgmeta] rebuild_policies: the policies could not ' \
        'be loaded: RuntimeError: loader bug' in out
    assert 'Traceback' not in out
