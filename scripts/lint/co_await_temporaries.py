#!/usr/bin/env python3
"""Finds class temporaries that g++ 12 destroys twice when they are made inside a co_await
full-expression (a double free; tests/unit/libcyphonic/app/co_await_temporaries_test.cpp holds
the reductions). Three shapes do it, so a statement that holds a `co_await` must contain none of:

  - a conditional operator `?:` (its class-type result is destroyed twice),
  - a braced temporary `T{...}` or `{...}` (an aggregate with a non-trivial member is),
  - a lambda that captures by value (`[x]`, `[=]`, `[x = ...]`: its closure is).

Temporaries made by a function call (`a + b`, `std::string(x)`, `f()`) are not affected, and the
bodies of lambdas in the statement are statements of their own. Build the value in its own
statement first. A line comment holding `co_await-temporary: allowed` exempts the statement
that follows it (say why: the reductions, a capture of a trivially destructible value).

Usage: co_await_temporaries.py FILE...   Exit status 1 and one located line per finding.
"""
import re
import sys

TOKEN = re.compile(
    r'//[^\n]*'                      # line comment
    r'|/\*.*?\*/'                    # block comment
    r'|R"([^(\s]*)\(.*?\)\1"'        # raw string literal
    r'|"(?:\\.|[^"\\\n])*"'          # string literal
    r"|'(?:\\.|[^'\\\n])*'"          # character literal
    r'|\[\[.*?\]\]'                  # attribute
    r'|[A-Za-z_][A-Za-z_0-9]*'       # identifier or keyword
    r'|[0-9][0-9A-Za-z_.\']*'        # number
    r'|->|::'
    r'|\S',
    re.S)

# Tokens after which `[` subscripts (an expression ends there) rather than opens a lambda.
EXPRESSION_END = re.compile(r'[A-Za-z_0-9]')
KEYWORDS_BEFORE_LAMBDA = {'return', 'co_await', 'co_return', 'co_yield', 'case'}


class Frame:
    """A block or lambda body: its own statements."""

    def __init__(self):
        self.depth = 0             # open ( [ and braced initialisers
        self.init_braces = []      # depths at which a braced initialiser was opened
        self.lambda_arrows = set() # depths where `) -> T` waits for its lambda body
        self.introducers = []      # [depth, is_lambda, tokens] of open [ ... ]
        self.await_line = None
        self.findings = []
        self.allowed = False       # the statement follows an `allowed` comment

    def end_statement(self, out):
        if self.await_line is not None and self.findings and not self.allowed:
            out.extend((line, kind, self.await_line) for kind, line in self.findings)
        self.await_line = None
        self.findings = []
        self.allowed = False


def by_value_captures(tokens):
    captures = []
    current = []
    for t in tokens + [',']:
        if t == ',':
            if current:
                captures.append(' '.join(current))
            current = []
        else:
            current.append(t)
    return [c for c in captures if not c.startswith('&') and c not in ('this', '* this')]


def findings(text):
    out = []
    frames = [Frame()]
    prev = ''
    for match in TOKEN.finditer(text):
        t = match.group(0)
        line = text.count('\n', 0, match.start()) + 1
        if t.startswith('//'):
            if 'co_await-temporary: allowed' in t:
                frames[-1].allowed = True
            continue
        if t.startswith(('/*', '[[')):
            continue
        if t.startswith(('"', "'", 'R"')):
            prev = 'literal'
            continue
        f = frames[-1]
        if f.introducers and t != ']':
            f.introducers[-1][2].append(t)
        if t == 'co_await':
            if f.await_line is None:
                f.await_line = line
        elif t == '?':
            f.findings.append(('?:', line))
        elif t == '(':
            f.depth += 1
        elif t == ')':
            f.depth -= 1
        elif t == '[':
            is_lambda = (not EXPRESSION_END.match(prev or ' ') and prev not in (')', ']', 'literal')
                         ) or prev in KEYWORDS_BEFORE_LAMBDA
            f.depth += 1
            f.introducers.append([f.depth, is_lambda, []])
        elif t == ']':
            if f.introducers and f.introducers[-1][0] == f.depth:
                _, is_lambda, tokens = f.introducers.pop()
                values = by_value_captures(tokens) if is_lambda else []
                if values:
                    f.findings.append(('lambda capturing by value [' + ', '.join(values) + ']',
                                       line))
            f.depth -= 1
        elif t == '->':
            if prev == ')' and f.depth > 0:
                f.lambda_arrows.add(f.depth)
        elif t == '{':
            body = prev in (')', ']', 'mutable', 'noexcept') or f.depth in f.lambda_arrows
            f.lambda_arrows.discard(f.depth)
            if not body and (f.depth > 0 or prev in ('=', 'return', 'co_return', ',', 'literal')):
                name = prev if re.match(r'[A-Za-z_]', prev) else ''
                f.findings.append((f'braced temporary {name}{{...}}', line))
                f.depth += 1
                f.init_braces.append(f.depth)
            else:
                if f.depth == 0:
                    f.end_statement(out)  # a block opens: the statement before it ends
                frames.append(Frame())
        elif t == '}':
            if f.init_braces and f.init_braces[-1] == f.depth:
                f.init_braces.pop()
                f.depth -= 1
            else:
                f.end_statement(out)
                if len(frames) > 1:
                    frames.pop()
                if frames[-1].depth == 0:
                    frames[-1].end_statement(out)
        elif t == ';' and f.depth == 0:
            f.end_statement(out)
        prev = t
    return out


def main(paths):
    found = 0
    for path in paths:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for line, kind, await_line in findings(text):
            print(f'{path}:{line}: {kind} in a full-expression with co_await (line '
                  f'{await_line}); g++ 12 destroys such a temporary twice: build the value in '
                  f'its own statement first')
            found += 1
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
