# Copyright 2026 ev3 developers
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
"""Check that Python files stay valid for Python 3.9.

Usage: ``python tools/check_py39.py [PATH ...]`` (default: the repository's
``cinder``, ``tools``, ``bench`` and ``doc``/``releasenotes`` Sphinx
configurations). Exits 1 and names file:line for each problem.

Checks, on the newest interpreter the project runs on:

* the grammar of Python 3.9 (``ast.parse(feature_version=(3, 9))``): no
  ``match``, no ``except*``;
* PEP 604 unions (``int | None``) in annotations that Python 3.9 evaluates
  (modules without ``from __future__ import annotations``);
* parenthesized context managers (``with (a() as x, b() as y):``), which
  CPython 3.9 happens to parse but only 3.10 defines;
* ``dataclass(kw_only=..., slots=..., match_args=...)`` (3.10);
* imports of modules and use of names added after 3.9 (``tomllib``,
  ``typing.TypeAlias``, ``itertools.pairwise``, ...).
"""

import ast
import io
import os
import sys
import tokenize

FEATURE_VERSION = (3, 9)

NEW_MODULES = {'tomllib': '3.11', 'wsgiref.types': '3.11'}
NEW_NAMES = {
    'typing': {'TypeAlias': '3.10', 'ParamSpec': '3.10',
               'Concatenate': '3.10', 'TypeGuard': '3.10',
               'is_typeddict': '3.10', 'Self': '3.11',
               'LiteralString': '3.11', 'Never': '3.11',
               'Required': '3.11', 'NotRequired': '3.11',
               'Unpack': '3.11', 'TypeVarTuple': '3.11',
               'assert_never': '3.11', 'assert_type': '3.11',
               'reveal_type': '3.11', 'dataclass_transform': '3.11'},
    'itertools': {'pairwise': '3.10'},
    'contextlib': {'aclosing': '3.10', 'chdir': '3.11'},
    'datetime': {'UTC': '3.11'},
    'enum': {'StrEnum': '3.11', 'ReprEnum': '3.11', 'verify': '3.11'},
    'asyncio': {'TaskGroup': '3.11', 'timeout': '3.11', 'Runner': '3.11'},
    'operator': {'call': '3.11'},
    'hashlib': {'file_digest': '3.11'},
    'inspect': {'get_annotations': '3.10'},
    'types': {'NoneType': '3.10', 'EllipsisType': '3.10',
              'NotImplementedType': '3.10', 'UnionType': '3.10'},
}
NEW_DATACLASS_KEYWORDS = {'kw_only': '3.10', 'slots': '3.10',
                          'match_args': '3.10', 'weakref_slot': '3.11'}
DEFAULT_PATHS = ('cinder', 'tools', 'bench', 'setup.py',
                 os.path.join('doc', 'source', 'conf.py'),
                 os.path.join('releasenotes', 'source', 'conf.py'))
SKIP_DIRS = {'.git', '.venv', '.tox', 'build', 'dist', '__pycache__',
             '.stestr'}


class Checker(ast.NodeVisitor):
    """Collects Python 3.9 incompatibilities of one module's AST."""

    def __init__(self, tree, source=''):
        self.lines = source.splitlines(True)
        self.problems = []
        self.aliases = {}
        self.postponed = any(
            isinstance(node, ast.ImportFrom) and node.module == '__future__'
            and any(a.name == 'annotations' for a in node.names)
            for node in tree.body)

    def _add(self, node, message):
        self.problems.append((node.lineno, message))

    def _check_annotation(self, annotation):
        if annotation is None or self.postponed:
            return
        for node in ast.walk(annotation):
            if isinstance(node, ast.BinOp) and isinstance(node.op,
                                                          ast.BitOr):
                self._add(node, 'X | Y in an evaluated annotation needs '
                                'Python 3.10; use typing.Optional/Union')
                return

    def visit_arguments(self, node):
        for arg in node.posonlyargs + node.args + node.kwonlyargs:
            self._check_annotation(arg.annotation)
        for arg in (node.vararg, node.kwarg):
            if arg is not None:
                self._check_annotation(arg.annotation)
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self._check_annotation(node.returns)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_AnnAssign(self, node):
        self._check_annotation(node.annotation)
        self.generic_visit(node)

    def _closing_paren(self, node):
        """(line, col) of the ')' closing a '(' right after ``with``."""
        first = self.lines[node.lineno - 1][node.col_offset:]
        text = first + ''.join(self.lines[node.lineno:])
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)

        def position(row_col):
            row, col = row_col
            if row == 1:
                col += node.col_offset
            return row + node.lineno - 1, col

        depth = 0
        start = None
        try:
            for tok in tokens:
                if start is None:
                    if tok.type == tokenize.NAME and tok.string in ('with',
                                                                    'async'):
                        continue
                    if tok.string != '(':
                        return None, None
                    start = position(tok.start)
                if tok.string in ('(', '[', '{'):
                    depth += 1
                elif tok.string in (')', ']', '}'):
                    depth -= 1
                    if depth == 0:
                        return start, position(tok.end)
        except (tokenize.TokenError, IndentationError):
            return None, None
        return None, None

    def visit_With(self, node):
        if self.lines:
            start, end = self._closing_paren(node)
            first = node.items[0].context_expr
            if end and (first.lineno, first.col_offset) > start:
                inside = any(
                    item.optional_vars is not None and
                    (item.optional_vars.end_lineno,
                     item.optional_vars.end_col_offset) <= end
                    for item in node.items)
                if inside or (len(node.items) > 1 and (
                        node.items[1].context_expr.lineno,
                        node.items[1].context_expr.col_offset) < end):
                    self._add(node, 'parenthesized context managers need '
                                    'Python 3.10')
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_Import(self, node):
        for alias in node.names:
            self._check_module(node, alias.name)
            self.aliases[alias.asname or alias.name] = alias.name
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if node.module and not node.level:
            self._check_module(node, node.module)
            for alias in node.names:
                since = NEW_NAMES.get(node.module, {}).get(alias.name)
                if since:
                    self._add(node, '%s.%s needs Python %s'
                              % (node.module, alias.name, since))
                self.aliases[alias.asname or alias.name] = '%s.%s' % (
                    node.module, alias.name)
        self.generic_visit(node)

    def _check_module(self, node, module):
        since = NEW_MODULES.get(module)
        if since:
            self._add(node, 'module %s needs Python %s' % (module, since))

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name):
            module = self.aliases.get(node.value.id)
            since = NEW_NAMES.get(module, {}).get(node.attr)
            if since:
                self._add(node, '%s.%s needs Python %s'
                          % (module, node.attr, since))
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        name = None
        if isinstance(func, ast.Name):
            name = self.aliases.get(func.id, func.id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value,
                                                            ast.Name):
            name = '%s.%s' % (self.aliases.get(func.value.id, func.value.id),
                              func.attr)
        if name in ('dataclasses.dataclass', 'dataclass'):
            for keyword in node.keywords:
                since = NEW_DATACLASS_KEYWORDS.get(keyword.arg)
                if since:
                    self._add(node, 'dataclass(%s=...) needs Python %s'
                              % (keyword.arg, since))
        self.generic_visit(node)


def check_source(source, filename):
    """Return [(line, message)] for one module's source text."""
    try:
        tree = ast.parse(source, filename, feature_version=FEATURE_VERSION)
    except SyntaxError as exc:
        return [(exc.lineno or 0, 'not Python 3.9 syntax: %s' % exc.msg)]
    checker = Checker(tree, source)
    checker.visit(tree)
    return sorted(checker.problems)


def iter_files(paths):
    """Yield every .py file under the given files and directories."""
    for path in paths:
        if os.path.isfile(path):
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in sorted(files):
                if name.endswith('.py'):
                    yield os.path.join(root, name)


def main(argv):
    """Check the files; print problems; return the exit status."""
    paths = argv or [p for p in DEFAULT_PATHS if os.path.exists(p)]
    count = 0
    problems = 0
    for filename in iter_files(paths):
        count += 1
        with open(filename, encoding='utf-8') as handle:
            source = handle.read()
        for line, message in check_source(source, filename):
            problems += 1
            print('%s:%d: %s' % (filename, line, message))
    if count == 0:
        print('check_py39: no Python files found in %s' % ' '.join(paths))
        return 1
    print('check_py39: %d file(s), %d problem(s)' % (count, problems))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
