#include "util/bounded_json.hpp"

#include <gmock/gmock.h>
#include <string>

using namespace segforge::core;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(BoundedJson, NestingIsMeasuredOnTheTextAndLocated) {
    const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
    EXPECT_EQ(jsonNestingError(ok), "");
    EXPECT_TRUE(parseBoundedJson(ok).ok());
    const std::string deep =
        "{\"a\":\n  " + std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']') + "}";
    // The object is level 1, so the 512th bracket (column 3 + 511) is level 513.
    EXPECT_THAT(jsonNestingError(deep),
                StartsWith("2:514: lists and objects nest deeper than 512 levels"));
    const BoundedJson parsed = parseBoundedJson(deep);
    EXPECT_FALSE(parsed.ok());
    EXPECT_TRUE(parsed.value.is_null());
}

TEST(BoundedJson, BracketsInsideStringsDoNotCount) {
    const std::string text = "[\"" + std::string(5000, '[') + "\\\"]\", 1]";
    EXPECT_EQ(jsonNestingError(text, 2), "");
    EXPECT_TRUE(parseBoundedJson(text, 2).ok());
    EXPECT_THAT(jsonNestingError("[[[1]]]", 2), StartsWith("1:3:"));
}

TEST(BoundedJson, SyntaxErrorsAreLocatedOnce) {
    const BoundedJson r = parseBoundedJson("{\n  \"a\": 1,\n  \"b\": }");
    EXPECT_EQ(r.error, "3:8: not valid JSON: syntax error while parsing value - unexpected '}'; "
                       "expected '[', '{', or a literal");
    const BoundedJson big = parseBoundedJson("[1,\n 2e99999]");
    EXPECT_EQ(big.error, "2:2: not valid JSON: number overflow parsing '2e99999'");
}

TEST(BoundedJson, ReasonsAreValidUtf8AndShort) {
    const std::string text = "[\"abc\xff\xfe\", " + std::string(10000, 'x') + "]";
    const BoundedJson r = parseBoundedJson(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(validUtf8(r.error), r.error);
    EXPECT_LT(r.error.size(), 300u);
    const BoundedJson longToken =
        parseBoundedJson("[\"" + std::string(100000, 'x')); // an unclosed string is quoted whole
    EXPECT_LT(longToken.error.size(), 300u);
    EXPECT_THAT(longToken.error, HasSubstr("…"));
}

TEST(BoundedJson, ExcerptIsBoundedAndWalksAnyDepthWithoutRecursion) {
    nlohmann::json deep = 1;
    for (int i = 0; i < 200000; ++i) { // dump() would overflow the stack here
        nlohmann::json outer = nlohmann::json::array();
        outer.push_back(std::move(deep));
        deep = std::move(outer);
    }
    const std::string e = jsonExcerpt(deep, 40);
    EXPECT_EQ(e, std::string(40, '[') + "…");
    EXPECT_EQ(jsonExcerpt(nlohmann::json::parse(R"({"a": [1, 2.5, true, null], "b": "x\"y"})")),
              R"({"a": [1, 2.5, true, null], "b": "x\"y"})");
    EXPECT_EQ(jsonExcerpt(nlohmann::json::array({1, 2, 3, 4, 5, 6}), 8), "[1, 2, 3…");
}

TEST(BoundedJson, ExcerptNeverSplitsOrEmitsInvalidUtf8) {
    const nlohmann::json word = std::string(20, 'a') + "\xc3\xa9\xc3\xa9\xc3\xa9";
    for (std::size_t n = 1; n < 30; ++n) {
        const std::string e = jsonExcerpt(word, n);
        EXPECT_EQ(validUtf8(e), e) << n;
    }
    // Values not from the parser (a file name, a Qt string) may hold any bytes.
    const nlohmann::json bad = std::string("ab\xff\xc3");
    EXPECT_EQ(jsonExcerpt(bad), "\"ab\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(BoundedJson, ValidUtf8ReplacesEachInvalidSequence) {
    EXPECT_EQ(validUtf8("plain"), "plain");
    EXPECT_EQ(validUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
              "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    EXPECT_EQ(validUtf8("a\x80"
                        "b"),
              "a\xEF\xBF\xBD"
              "b");                                               // stray continuation byte
    EXPECT_EQ(validUtf8("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD"); // overlong '/'
    EXPECT_EQ(validUtf8("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // a surrogate
    EXPECT_EQ(validUtf8("\xf4\x90\x80\x80").substr(0, 3), "\xEF\xBF\xBD");        // above U+10FFFF
    EXPECT_EQ(validUtf8("\xe2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");                 // truncated
}

TEST(BoundedJson, LineColumnCountsFromOne) {
    EXPECT_EQ(lineColumn("ab\ncd", 0), "1:1");
    EXPECT_EQ(lineColumn("ab\ncd", 4), "2:2");
    EXPECT_EQ(lineColumn("ab", 99), "1:3");
}
