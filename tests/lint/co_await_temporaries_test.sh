#!/usr/bin/env bash
# The co_await temporaries lint (scripts/lint/co_await_temporaries.py) finds every shape g++ 12
# miscompiles and nothing else.
set -euo pipefail
lint=${1:?usage: co_await_temporaries_test.sh LINT_SCRIPT}
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
    co_await record(Reason{name + "x", 3});
    auto r = co_await h({1, 2});
    co_await db.run([name](pqxx::connection& c) { return c.run(name); });
    co_await db.run([=](pqxx::connection& c) { return c.run(name); });
    *out = co_await call([copy = std::move(name)] { return copy; });
    co_await outer(inner(std::string{cond ? a : b}));
}
CPP
cat >"$dir/good.cpp" <<'CPP'
asio::awaitable<void> b() {
    const auto reason = cond ? name + " did not confirm" : other;  // own statement
    co_await fail_with(code, reason);
    co_await log("is it? yes: '?' and {braces} in a literal are text");  // a comment? {x}
    /* co_await x ? y : z */
    const char c = '?';
    auto lambda = [&] { return k ? 1 : 2; };
    co_await run(lambda);
    co_await fail_with(code, "no node is named " + fqdn);
    co_await db.run([&device_id, this](pqxx::connection& c) {
        return c.exec(device_id.empty() ? "a" : "b", Reason{device_id, 1});
    });
    [[maybe_unused]] auto result = co_await std::move(again);
    co_await g(values[i], table[0]);
    asio::co_spawn(io, [x]() -> asio::awaitable<void> { co_await k(x); }, asio::detached);
    for (int i = 0; i < n; ++i) {
        co_await step(i);
    }
    Reason aggregate{name, 1};
    co_await record(std::move(aggregate));
    // co_await-temporary: allowed (the reduction)
    co_await h(k ? std::string("a") : std::string("b"));
}
CPP
status=0
out=$(python3 "$lint" "$dir/bad.cpp") || status=$?
echo "$out"
expected=11
found=$(printf '%s\n' "$out" | awk '/in a full-expression with co_await/ { n++ } END { print n + 0 }')
if [ "$status" != 1 ] || [ "$found" != "$expected" ]; then
    echo "FAIL: expected exit 1 and $expected findings in bad.cpp, got exit $status and $found" >&2
    exit 1
fi
if ! out=$(python3 "$lint" "$dir/good.cpp"); then
    echo "$out"
    echo "FAIL: good.cpp was flagged" >&2
    exit 1
fi
echo "co_await temporaries lint: $found/$expected bad shapes found, good shapes clean"
