#include "cyphonic/core/fqdn.hpp"

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace cyphonic {
namespace {

std::string label(std::size_t n, char c = 'a') {
    return std::string(n, c);
}

// `labels` labels of 63 bytes joined by dots, then one more label making the name `total` long.
std::string name_of_length(std::size_t total) {
    std::string name;
    while (total - name.size() > 64) {
        name += label(63) + ".";
    }
    name += label(total - name.size(), 'z');
    return name;
}

void expect_error(std::string_view text, FqdnError e) {
    const auto r = Fqdn::validate(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error(), e) << text << ": " << to_string(r.error());
    EXPECT_FALSE(Fqdn::parse(text).has_value());
}

TEST(FqdnValidate, AcceptsOrdinaryNames) {
    for (const char* ok : {"a", "alice.example.net", "a-b.c-d", "0.1.2", "xn--bcher-kva.example",
                           "a1b2.c3", "node-7.overlay.cyphonic.example"}) {
        SCOPED_TRACE(ok);
        EXPECT_TRUE(Fqdn::validate(ok).has_value());
        const auto parsed = Fqdn::parse(ok);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(parsed->str(), ok);
    }
}

TEST(FqdnValidate, RejectsEmpty) {
    expect_error("", FqdnError::Empty);
}

TEST(FqdnValidate, AcceptsTotalLength253AndRejects254) {
    const std::string longest = name_of_length(253);
    ASSERT_EQ(longest.size(), 253U);
    EXPECT_TRUE(Fqdn::validate(longest).has_value());
    const std::string too_long = name_of_length(254);
    ASSERT_EQ(too_long.size(), 254U);
    expect_error(too_long, FqdnError::TooLong);
    expect_error(std::string(1000, 'a'), FqdnError::TooLong);
}

TEST(FqdnValidate, RejectsEmptyLabels) {
    for (const char* bad : {".", "..", ".a", "a.", "a..b", "alice.example.net.", "a.b..c"}) {
        SCOPED_TRACE(bad);
        expect_error(bad, FqdnError::EmptyLabel);
    }
}

TEST(FqdnValidate, AcceptsLabelOf63AndRejects64) {
    EXPECT_TRUE(Fqdn::validate(label(63)).has_value());
    EXPECT_TRUE(Fqdn::validate(label(63) + ".net").has_value());
    EXPECT_TRUE(Fqdn::validate("x." + label(63) + ".net").has_value());
    expect_error(label(64), FqdnError::LabelTooLong);
    expect_error(label(64) + ".net", FqdnError::LabelTooLong);
    expect_error("x." + label(64), FqdnError::LabelTooLong);
}

TEST(FqdnValidate, RejectsEveryCharacterOutsideLowerCaseLettersDigitsHyphenDot) {
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        const bool allowed =
            (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
        if (allowed) {
            continue;
        }
        SCOPED_TRACE(c);
        expect_error(std::string("ab") + ch + "c.net", FqdnError::BadCharacter);
    }
}

TEST(FqdnValidate, RejectsUpperCaseInsteadOfFolding) {
    expect_error("Alice.example.net", FqdnError::BadCharacter);
    expect_error("alice.EXAMPLE.net", FqdnError::BadCharacter);
}

TEST(FqdnValidate, RejectsHyphenAtEitherEndOfALabel) {
    for (const char* bad : {"-", "-a", "a-", "-a.net", "a-.net", "alice.-example.net",
                            "alice.example-.net", "alice.example.-"}) {
        SCOPED_TRACE(bad);
        expect_error(bad, FqdnError::HyphenAtEdge);
    }
    EXPECT_TRUE(Fqdn::validate("a--b.net").has_value());
}

TEST(FqdnErrors, EveryErrorHasADistinctDescription) {
    const std::vector<FqdnError> all{FqdnError::Empty,        FqdnError::TooLong,
                                     FqdnError::EmptyLabel,   FqdnError::LabelTooLong,
                                     FqdnError::BadCharacter, FqdnError::HyphenAtEdge};
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_FALSE(to_string(all[i]).empty());
        for (std::size_t j = i + 1; j < all.size(); ++j) {
            EXPECT_NE(to_string(all[i]), to_string(all[j]));
        }
    }
}

TEST(Fqdn, IsWithinMatchesTheDomainAndNamesBelowIt) {
    const auto name = Fqdn::parse("alice.example.net");
    ASSERT_TRUE(name.has_value());
    EXPECT_TRUE(name->is_within("alice.example.net"));
    EXPECT_TRUE(name->is_within("example.net"));
    EXPECT_TRUE(name->is_within("net"));
    EXPECT_FALSE(name->is_within("ample.net"));
    EXPECT_FALSE(name->is_within("example.org"));
    EXPECT_FALSE(name->is_within("bob.alice.example.net"));
}

TEST(Fqdn, FormatsAsItsText) {
    const auto name = Fqdn::parse("bob.example.net");
    ASSERT_TRUE(name.has_value());
    EXPECT_EQ(fmt::format("{}", *name), "bob.example.net");
}

}  // namespace
}  // namespace cyphonic
