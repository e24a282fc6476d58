#!/usr/bin/env bash
# The co_await/?: lint finds every shape of the pattern and nothing else.
set -euo pipefail
lint=${1:?usage: co_await_conditional_test.sh LINT_SCRIPT}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cat >"$dir/bad.cpp" <<'CPP'
asio::awaitable<void> a() {
    co_await fail_with(code, cond ? name + " did not confirm" : other);
    const auto n = co_await f(x,
                              y ? std::string("a") : std::string("b"));
    co_await g(h(k ? 1 : 2), "text");
    if (co_await ready() ? first() : second()) {
    }
}
CPP
cat >"$dir/good.cpp" <<'CPP'
asio::awaitable<void> b() {
    const auto reason = cond ? name + " did not confirm" : other;  // own statement
    co_await fail_with(code, reason);
    co_await log("is it? yes: '?' in a literal is text");  // a comment? with ?
    /* co_await x ? y : z */
    const char c = '?';
    auto lambda = [&] { return k ? 1 : 2; };
    co_await run(lambda);
    // co_await_conditional: allowed (the reduction)
    co_await h(k ? std::string("a") : std::string("b"));
}
CPP
status=0
out=$(python3 "$lint" "$dir/bad.cpp") && status=0 || status=$?
echo "$out"
found=$(printf '%s\n' "$out" | grep -c 'conditional operator' || true)
if [ "$status" != 1 ] || [ "$found" != 4 ]; then
    echo "FAIL: expected exit 1 and 4 findings in bad.cpp, got exit $status and $found" >&2
    exit 1
fi
if ! python3 "$lint" "$dir/good.cpp"; then
    echo "FAIL: good.cpp was flagged" >&2
    exit 1
fi
echo "co_await_conditional lint: 4/4 bad shapes found, good shapes clean"
