# Copyright nova-imgmeta contributors.
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
"""The line directives of patches-src/shared/ (series_template.py)."""

import pytest

import series_template

DECLARED = {'builder': ['api', 'utils'], 'fix': ['no', 'yes']}

TEMPLATE = """\
head
#@ if builder == api
api line
#@ elif builder == utils
    #@ if fix == yes
utils with fix
    #@ else
utils without fix
    #@ endif
#@ endif
#@ if fix != yes
no fix
#@ else
fix
#@ endif
tail
"""


@pytest.mark.parametrize('variables, expected', [
    ({'builder': 'api', 'fix': 'no'}, 'head\napi line\nno fix\ntail\n'),
    ({'builder': 'api', 'fix': 'yes'}, 'head\napi line\nfix\ntail\n'),
    ({'builder': 'utils', 'fix': 'yes'},
     'head\nutils with fix\nfix\ntail\n'),
    ({'builder': 'utils', 'fix': 'no'},
     'head\nutils without fix\nno fix\ntail\n'),
])
def test_render_keeps_the_branch_of_the_variables(variables, expected):
    assert series_template.render(TEMPLATE, variables,
                                  declared=DECLARED) == expected


def test_names_are_the_variables_the_directives_test():
    assert series_template.names(TEMPLATE, declared=DECLARED) == \
        ['builder', 'fix']


def test_text_without_directives_is_copied_byte_for_byte():
    text = 'a\r\n  # a comment\n#not a directive\nno newline at the end'
    assert series_template.render(text, {}) == text


@pytest.mark.parametrize('template, variables, error', [
    ('#@ if nope == api\n#@ endif\n', {}, 'undeclared variable'),
    ('#@ if builder == rpc\n#@ endif\n', {'builder': 'api'},
     "has no value 'rpc'"),
    ('#@ if builder == api\n#@ endif\n', {}, 'does not set'),
    ('#@ if builder == api\nx\n', {'builder': 'api'}, 'without endif'),
    ('#@ endif\n', {}, 'without if'),
    ('#@ if builder == api\n#@ else\n#@ else\n#@ endif\n',
     {'builder': 'api'}, 'after else'),
    ('#@ if builder\n#@ endif\n', {'builder': 'api'}, 'NAME == VALUE'),
    ('#@ include other\n', {}, 'unknown directive'),
])
def test_mistakes_are_errors_naming_the_line(template, variables, error):
    with pytest.raises(series_template.TemplateError) as caught:
        series_template.render(template, variables, 'shared/x.py',
                               declared=DECLARED)
    assert error in str(caught.value)
    assert 'shared/x.py' in str(caught.value)
