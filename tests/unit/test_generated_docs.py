"""doc/plugins.md's policy and option reference is made from the code."""

import io
import os

from nova_imgmeta import docgen

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                   os.pardir, 'doc', 'plugins.md')


def test_plugins_md_is_current():
    with io.open(DOC, encoding='utf-8') as doc:
        text = doc.read()
    assert docgen.update(text) == text, (
        'doc/plugins.md is stale: run "tox -e genconfig"')


def test_reference_names_every_policy_and_option():
    from nova_imgmeta import opts
    from nova_imgmeta.policies import catalog

    text = docgen.render()
    for policy in catalog.builtin_policies():
        assert '| `%s` | %s |' % (policy.name, policy.kind) in text
    for opt in opts.all_opts():
        assert '#### `%s`' % opt.name in text


def test_check_mode_reports_a_stale_file(tmp_path):
    path = tmp_path / 'plugins.md'
    path.write_text(u'intro\n%s\nold table\n%s\nend\n'
                    % (docgen.BEGIN, docgen.END))
    assert docgen.main(['--check', str(path)]) == 1
    assert docgen.main([str(path)]) == 0
    assert docgen.main(['--check', str(path)]) == 0
    text = path.read_text()
    assert text.startswith(u'intro\n') and text.endswith(u'end\n')
    assert 'old table' not in text
