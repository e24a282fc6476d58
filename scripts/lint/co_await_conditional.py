#!/usr/bin/env python3
"""Finds a conditional operator (?:) in a full-expression that also holds a co_await.

g++ 12 destroys a class temporary produced by `?:` inside a co_await operand twice (a double
free; tests/unit/libcyphonic/core/co_await_conditional_test.cpp holds the reduction). The rule
is kept simple so that it cannot miss a case: a statement that contains `co_await` must not
contain `?`. Build the value in its own statement first. A line comment holding
`co_await_conditional: allowed` exempts the statement that follows it (the reduction only).

Usage: co_await_conditional.py FILE...   Exit status 1 and one located line per finding.
"""
import re
import sys

TOKEN = re.compile(
    r'//[^\n]*'                      # line comment
    r'|/\*.*?\*/'                    # block comment
    r'|R"([^(\s]*)\(.*?\)\1"'        # raw string literal
    r'|"(?:\\.|[^"\\\n])*"'          # string literal
    r"|'(?:\\.|[^'\\\n])*'"          # character literal
    r'|\bco_await\b'
    r'|[?;{}]',
    re.S)


def findings(path, text):
    statement_start = None  # line of the statement's co_await, if any
    has_conditional = False
    conditional_line = 0
    allowed = False
    for match in TOKEN.finditer(text):
        token = match.group(0)
        line = text.count('\n', 0, match.start()) + 1
        if token.startswith('//'):
            allowed = allowed or 'co_await_conditional: allowed' in token
        elif token == 'co_await':
            if statement_start is None:
                statement_start = line
        elif token == '?':
            if not has_conditional:
                conditional_line = line
            has_conditional = True
        elif token in (';', '{', '}'):
            if statement_start is not None and has_conditional and not allowed:
                yield (path, conditional_line, statement_start)
            allowed = False
            statement_start = None
            has_conditional = False
        # comments and literals are skipped


def main(paths):
    found = 0
    for path in paths:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for file, line, await_line in findings(path, text):
            print(f'{file}:{line}: conditional operator in a full-expression with co_await '
                  f'(line {await_line}); g++ 12 destroys its temporary twice: build the value '
                  f'in its own statement first')
            found += 1
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
