// Strict query parsing: what counts as an integer, percent-decoding, unknown and repeated parameters.
#include "server/query_params.h"

#include <gtest/gtest.h>

namespace helix::server {
namespace {

TEST(ParseInt64, AcceptsPlainDecimal) {
  EXPECT_EQ(*parse_int64("0", "n"), 0);
  EXPECT_EQ(*parse_int64("128", "n"), 128);
  EXPECT_EQ(*parse_int64("-5", "n"), -5);
  EXPECT_EQ(*parse_int64("007", "n"), 7);
  EXPECT_EQ(*parse_int64("9223372036854775807", "n"), INT64_MAX);
  EXPECT_EQ(*parse_int64("-9223372036854775808", "n"), INT64_MIN);
}

TEST(ParseInt64, RefusesEverythingElseNamingTheParam) {
  for (const char* bad : {"", "12abc", "1e3", " 5", "5 ", "+5", "-", "--5", "0x10", "1.0", "1,000", "١٢",
                          "9223372036854775808", "-9223372036854775809", "99999999999999999999999"}) {
    auto r = parse_int64(bad, "block_size");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().param, "block_size");
    EXPECT_EQ(r.error().message.rfind("block_size: ", 0), 0u) << r.error().message;
  }
  EXPECT_NE(parse_int64("99999999999999999999", "n").error().message.find("out of range"), std::string::npos);
}

TEST(PercentDecode, DecodesAndRefusesBrokenEscapes) {
  EXPECT_EQ(*percent_decode("a%20b+c%2Bd", "p"), "a b c+d");
  EXPECT_EQ(*percent_decode("%C3%B1", "p"), "\xC3\xB1");
  EXPECT_EQ(*percent_decode("%00", "p"), std::string(1, '\0'));
  for (const char* bad : {"%", "%2", "%zz", "a%g0"}) EXPECT_FALSE(percent_decode(bad, "p")) << bad;
}

TEST(QueryParams, ParsesPairsInOrder) {
  auto q = QueryParams::parse("?a=1&b=&c&&d=x%26y&");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->pairs().size(), 4u);
  EXPECT_EQ(q->get("a"), "1");
  EXPECT_EQ(q->get("b"), "");
  EXPECT_EQ(q->get("c"), "");
  EXPECT_EQ(q->get("d"), "x&y");
  EXPECT_EQ(q->get("e"), std::nullopt);
  EXPECT_TRUE(QueryParams::parse("")->pairs().empty());
}

TEST(QueryParams, RefusesMalformedPairs) {
  EXPECT_EQ(QueryParams::parse("=5").error().param, "query");
  EXPECT_EQ(QueryParams::parse("a=1=2").error().param, "a");
  EXPECT_EQ(QueryParams::parse("a=%zz").error().param, "a");
}

TEST(QueryParams, CheckNamesUnknownThenRepeated) {
  auto q = QueryParams::parse("a=1&zz=2&yy=3");
  ASSERT_TRUE(q);
  auto unknown = q->check({"a", "b"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().param, "zz");
  EXPECT_NE(unknown.error().message.find("'yy'"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("known: a, b"), std::string::npos);

  auto repeated = QueryParams::parse("a=1&b=2&a=1");
  ASSERT_TRUE(repeated);
  auto r = repeated->check({"a", "b"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().param, "a");
  EXPECT_TRUE(QueryParams::parse("a=1&b=2")->check({"a", "b"}));
}

TEST(QueryParams, GetInt64) {
  auto q = QueryParams::parse("n=42&bad=4x");
  ASSERT_TRUE(q);
  EXPECT_EQ(**q->get_int64("n"), 42);
  EXPECT_EQ(*q->get_int64("missing"), std::nullopt);
  EXPECT_EQ(q->get_int64("bad").error().param, "bad");
}

TEST(QueryOfTarget, SplitsAtQuestionMark) {
  EXPECT_EQ(query_of_target("/p?a=1&b=2"), "a=1&b=2");
  EXPECT_EQ(query_of_target("/p"), "");
  EXPECT_EQ(query_of_target("/p?a=1#frag"), "a=1");
}

}  // namespace
}  // namespace helix::server
