#include "base/json.h"

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace baton {
namespace {

Json J(std::string_view text) {
  Result<Json> parsed = Json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? parsed.value() : Json();
}

TEST(JsonTest, ParseAndDump) {
  EXPECT_EQ(J(R"( {"a": [1, 2.5, "x", true, null], "b": {}} )").Dump(),
            R"({"a":[1,2.5,"x",true,null],"b":{}})");
  EXPECT_EQ(J("[1]").Dump(true), "[\n  1\n]");
  EXPECT_EQ(J(R"("caf\u00e9")").AsString(), "caf\xc3\xa9");
}

TEST(JsonTest, ParseErrorsSayWhere) {
  Result<Json> bad = Json::Parse(R"({"a": })");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(Json::Parse("").ok());
  EXPECT_FALSE(Json::Parse("[1").ok());
}

// libjq 1.6 leaks a string that follows a value without a separator inside a container; these
// inputs are refused before it parses them (under ASan, a leak fails this test).
TEST(JsonTest, AdjacentValuesAreRefusedWithoutLeaking) {
  for (const char* text :
       {R"(["x" "y"])", R"({"a" "b"})", R"([1 "x"])", R"([true "x"])", R"([[1] "x"])",
        R"([{} "x"])", R"({"a":1 "b":2})", "[\"abc\",\n \"d\" \"e\"]", R"({"a": "b\"" "c"})"}) {
    Result<Json> bad = Json::Parse(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("Expected separator between values at line"),
              std::string::npos)
        << bad.status().message();
  }
  EXPECT_NE(Json::Parse("[\"abc\",\n \"d\" \"e\"]").status().message().find("line 2"),
            std::string::npos);
  // Valid text with the same characters still parses; strings with quotes and brackets inside
  // do not confuse the check.
  EXPECT_EQ(J(R"({"a": "b \" [x\" ]", "c": ["d", {"e": "f"}], "g": 1})").Get("g").AsInt(), 1);
  EXPECT_EQ(J(R"("a b")").AsString(), "a b");
  EXPECT_EQ(J(R"(["x", "y"])").size(), 2u);
}

// Json copies and frees null, false and true without calling libjq, reading the kind from
// the low bits of jv's kind_flags: this installed libjq must agree, and must make them own
// nothing (a leak or a double free under ASan otherwise).
// The codec walks large arrays through PeekArrayItems; on this libjq the direct read must be
// available and agree with jv_array_get, windows (slices) included.
TEST(JsonTest, PeekArrayItemsReadsWhatJvArrayGetReads) {
  jv array = jv_array();
  for (int i = 0; i < 100; ++i) {
    array = jv_array_append(array, i % 3 == 0 ? jv_string("s") : jv_number(i));
  }
  jv window = jv_array_slice(jv_copy(array), 17, 61);
  for (jv a : {array, window}) {
    const jv* items = PeekArrayItems(a);
    ASSERT_NE(items, nullptr) << "this libjq's array layout is not the one PeekArrayItems reads";
    const int n = jv_array_length(jv_copy(a));
    for (int i = 0; i < n; ++i) {
      jv item = jv_array_get(jv_copy(a), i);
      EXPECT_EQ(jv_get_kind(items[i]), jv_get_kind(item)) << i;
      EXPECT_TRUE(jv_equal(jv_copy(items[i]), jv_copy(item))) << i;
      jv_free(item);
    }
  }
  jv_free(window);
  jv_free(array);
}

TEST(JsonTest, InlineKindsMatchLibjq) {
  jv values[] = {jv_null(),      jv_false(),     jv_true(),
                 jv_number(1.5), jv_string("x"), jv_array(),
                 jv_object(),    jv_invalid(),   jv_invalid_with_msg(jv_string("m"))};
  for (jv& v : values) {
    EXPECT_EQ(static_cast<int>(v.kind_flags & 0xFu), static_cast<int>(jv_get_kind(v)));
    jv_free(v);
  }
  jv null = jv_null();
  jv ours = Json().CopyJv();
  EXPECT_TRUE(jv_identical(ours, null));  // frees both
  Json a = Json::Bool(true);
  Json b = a;
  Json c;
  c = b;
  c = Json::String("owned");
  c = Json();
  EXPECT_EQ(b.Dump(), "true");
  EXPECT_TRUE(c.IsNull());
}

// Dump() writes compact text itself; it must be byte for byte what libjq writes.
TEST(JsonTest, CompactDumpIsJqs) {
  std::mt19937_64 rng(20261126);
  const double numbers[] = {0,
                            -0.0,
                            1,
                            -1,
                            2.5,
                            1e15 - 1,
                            -(1e15 - 1),
                            1e15,
                            1e16,
                            1e17,
                            123456789012345678.0,
                            1e21,
                            1e-5,
                            0.0001,
                            1e-7,
                            3.14159,
                            1e300,
                            -1e300,
                            0.1 + 0.2,
                            1e308 * 10,
                            std::nan("")};
  std::function<jv(int)> gen = [&](int depth) -> jv {
    switch (rng() % (depth > 3 ? 4 : 6)) {
      case 0:
        return jv_number(numbers[rng() % std::size(numbers)]);
      case 1: {
        if (rng() % 2)
          return jv_number(static_cast<double>(static_cast<int64_t>(rng() >> 14)) *
                           (rng() % 2 ? 1 : -1));
        return jv_number(
            std::ldexp(static_cast<double>(rng() >> 11), -static_cast<int>(rng() % 80)));
      }
      case 2: {
        std::string text;
        for (int i = 0, n = static_cast<int>(rng() % 12); i < n; ++i) {
          static const char* pieces[] = {"a",    "\"",   "\\",   "\n", "\t", "\b", "\f", "\r",
                                         "\x01", "\x1f", "\x7f", " ",  "é",  "€",  "😀",  "/"};
          text += pieces[rng() % std::size(pieces)];
        }
        return jv_string_sized(text.data(), static_cast<int>(text.size()));
      }
      case 3:
        return rng() % 3 == 0 ? jv_null() : (rng() % 2 ? jv_true() : jv_false());
      case 4: {
        jv a = jv_array();
        for (int i = 0, n = static_cast<int>(rng() % 5); i < n; ++i)
          a = jv_array_append(a, gen(depth + 1));
        return a;
      }
      default: {
        jv o = jv_object();
        for (int i = 0, n = static_cast<int>(rng() % 5); i < n; ++i) {
          jv key = gen(3);
          if (jv_get_kind(key) != JV_KIND_STRING) {
            jv_free(key);
            key = jv_string(("k" + std::to_string(rng() % 7)).c_str());
          }
          o = jv_object_set(o, key, gen(depth + 1));
        }
        return o;
      }
    }
  };
  for (int i = 0; i < 3000; ++i) {
    jv v = gen(0);
    jv theirs = jv_dump_string(jv_copy(v), 0);
    std::string expected(jv_string_value(theirs));
    jv_free(theirs);
    Json ours = Json::Adopt(v);
    ASSERT_EQ(ours.Dump(), expected);
    // DeepCopy keeps every value and shares nothing.
    Json copy = ours.DeepCopy();
    ASSERT_EQ(copy.Dump(), expected);
    if (ours.IsArray() || ours.IsObject() || ours.IsString()) {
      ASSERT_EQ(jv_get_refcnt(ours.Peek()), 1);
      ASSERT_EQ(jv_get_refcnt(copy.Peek()), 1);
    }
  }
}

TEST(JsonTest, Kinds) {
  EXPECT_EQ(Json().kind(), Json::Kind::kNull);
  EXPECT_EQ(Json::Bool(true).kind(), Json::Kind::kTrue);
  EXPECT_EQ(Json::Bool(false).kind(), Json::Kind::kFalse);
  EXPECT_EQ(Json::Number(1).kind(), Json::Kind::kNumber);
  EXPECT_EQ(Json::String("s").kind(), Json::Kind::kString);
  EXPECT_EQ(Json::Array().kind(), Json::Kind::kArray);
  EXPECT_EQ(Json::Object().kind(), Json::Kind::kObject);
  EXPECT_STREQ(Json::Bool(false).KindName(), "boolean");
  EXPECT_STREQ(Json::Object().KindName(), "object");
  EXPECT_TRUE(Json::Number(0).Truthy());
  EXPECT_TRUE(Json::String("").Truthy());
  EXPECT_FALSE(Json().Truthy());
  EXPECT_FALSE(Json::Bool(false).Truthy());
}

TEST(JsonTest, Numbers) {
  EXPECT_TRUE(Json::Number(3).IsInteger());
  EXPECT_FALSE(Json::Number(3.5).IsInteger());
  EXPECT_EQ(Json::Number(-7).AsInt(), -7);
  EXPECT_EQ(Json::Number(1e300).AsInt(), INT64_MAX);
  EXPECT_EQ(Json::String("3").AsInt(), 0);
  // Numbers are doubles, as in jq 1.6.
  EXPECT_EQ(J("9007199254740993").Dump(), "9007199254740992");
}

TEST(JsonTest, EqualityComparesValues) {
  EXPECT_EQ(J("1"), J("1.0"));
  EXPECT_EQ(J("1"), Json::Number(1.0));
  EXPECT_EQ(J(R"({"a": 1, "b": 2})"), J(R"({"b": 2, "a": 1})"));
  EXPECT_NE(J("[1, 2]"), J("[2, 1]"));
  EXPECT_NE(J("1"), J(R"("1")"));
  EXPECT_NE(Json(), Json::Bool(false));
}

TEST(JsonTest, StringsMayHoldNul) {
  Json s = Json::String(std::string_view("a\0b", 3));
  EXPECT_EQ(s.AsString().size(), 3u);
  EXPECT_EQ(s.AsString(), std::string_view("a\0b", 3));
  EXPECT_EQ(s.Dump(), R"("a\u0000b")");
  EXPECT_EQ(J(R"("x\u0000y")").AsString(), std::string_view("x\0y", 3));
  EXPECT_EQ(Json::Number(1).AsString(), "");
}

TEST(JsonTest, GetAndHas) {
  Json o = J(R"({"a": {"b": 1}, "n": null})");
  EXPECT_EQ(o.Get("a").Get("b"), Json::Number(1));
  EXPECT_TRUE(o.Get("missing").IsNull());
  EXPECT_TRUE(o.Has("n"));
  EXPECT_FALSE(o.Has("missing"));
  EXPECT_TRUE(Json::Array().Get("a").IsNull());
  EXPECT_FALSE(Json::String("a").Has("a"));
  EXPECT_EQ(J("[10, 20]").At(1), Json::Number(20));
  EXPECT_TRUE(J("[10, 20]").At(2).IsNull());
  EXPECT_EQ(o.size(), 2u);
  EXPECT_TRUE(Json::Object().empty());
}

TEST(JsonTest, CopiesAreIndependent) {
  Json a = J(R"({"x": 1, "inner": {"y": 2}})");
  Json b = a;
  b.Set("x", Json::Number(100));
  Json inner = b.Get("inner");
  inner.Set("y", Json::Number(200));
  b.Set("inner", inner);
  EXPECT_EQ(a.Dump(), R"({"x":1,"inner":{"y":2}})");
  EXPECT_EQ(b.Dump(), R"({"x":100,"inner":{"y":200}})");

  Json list = J("[1, 2]");
  Json list_copy = list;
  list_copy.Append(Json::Number(3));
  list_copy.SetAt(0, Json::String("one"));
  EXPECT_EQ(list.Dump(), "[1,2]");
  EXPECT_EQ(list_copy.Dump(), R"(["one",2,3])");
}

TEST(JsonTest, MovedFromIsNull) {
  Json a = J("[1]");
  Json b = std::move(a);
  EXPECT_TRUE(a.IsNull());  // NOLINT(bugprone-use-after-move): documented behaviour
  EXPECT_EQ(b.Dump(), "[1]");
  Json c;
  c = std::move(b);
  EXPECT_EQ(c.Dump(), "[1]");
  c = c;  // self-assignment keeps the value
  EXPECT_EQ(c.Dump(), "[1]");
}

TEST(JsonTest, SetAndAppendOnNullCreateTheContainer) {
  Json o;
  o.Set("a", Json::Number(1));
  EXPECT_EQ(o.Dump(), R"({"a":1})");
  Json l;
  l.Append(Json::String("x"));
  EXPECT_EQ(l.Dump(), R"(["x"])");
}

TEST(JsonTest, MembersKeepInsertionOrder) {
  Json o = Json::Object();
  o.Set("zeta", Json::Number(1));
  o.Set("alpha", Json::Number(2));
  o.Set("mid", Json::Number(3));
  o.Set("zeta", Json::Number(4));  // replacing keeps the position
  EXPECT_EQ(o.Dump(), R"({"zeta":4,"alpha":2,"mid":3})");
  std::vector<std::string> keys;
  o.ForEachMember([&](std::string_view key, const Json&) { keys.emplace_back(key); });
  EXPECT_EQ(keys, (std::vector<std::string>{"zeta", "alpha", "mid"}));
  o.Erase("alpha");
  EXPECT_EQ(o.Dump(), R"({"zeta":4,"mid":3})");
  EXPECT_EQ(J(R"({"b": 1, "a": 2})").Dump(), R"({"b":1,"a":2})");
}

TEST(JsonTest, ForEachItem) {
  std::vector<std::string> seen;
  J(R"([1, "a", null])").ForEachItem([&](size_t i, const Json& v) {
    seen.push_back(std::to_string(i) + "=" + v.Dump());
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"0=1", R"(1="a")", "2=null"}));
}

TEST(JsonTest, AtPointer) {
  Json doc = J(R"({"a": {"b": [10, {"c": "deep"}]}, "x/y": 1, "m~n": 2, "~1": 3, "": 4})");
  EXPECT_EQ(doc.AtPointer(""), doc);
  EXPECT_EQ(doc.AtPointer("/a/b/0"), Json::Number(10));
  EXPECT_EQ(doc.AtPointer("/a/b/1/c"), Json::String("deep"));
  EXPECT_EQ(doc.AtPointer("/x~1y"), Json::Number(1));
  EXPECT_EQ(doc.AtPointer("/m~0n"), Json::Number(2));
  EXPECT_EQ(doc.AtPointer("/~01"), Json::Number(3));  // "~01" is "~1", not "/"
  EXPECT_EQ(doc.AtPointer("/"), Json::Number(4));
  EXPECT_TRUE(doc.AtPointer("/a/b/2").IsNull());
  EXPECT_TRUE(doc.AtPointer("/a/b/x").IsNull());
  EXPECT_TRUE(doc.AtPointer("/a/b/-1").IsNull());
  EXPECT_TRUE(doc.AtPointer("/missing/deeper").IsNull());
  EXPECT_TRUE(doc.AtPointer("a").IsNull());
  EXPECT_EQ(PointerEscape("x/y~z"), "x~1y~0z");
  std::string escaped = "/";
  escaped += PointerEscape("m~n");  // not "/" + ...: GCC 12 -Wrestrict false positive at -O3
  EXPECT_EQ(doc.AtPointer(escaped), Json::Number(2));
}

TEST(JsonTest, DeepCopyIsEqualAndIndependent) {
  Json a = J(R"({"list": [1, {"s": "text"}], "n": null})");
  Json copy = a.DeepCopy();
  EXPECT_EQ(copy, a);
  copy.Set("n", Json::Number(1));
  EXPECT_TRUE(a.Get("n").IsNull());
  // Nothing is shared: the original's nodes keep their reference counts.
  EXPECT_EQ(jv_get_refcnt(a.Peek()), 1);
  Json list = a.Get("list");
  EXPECT_EQ(jv_get_refcnt(list.Peek()), 2);  // a's member and `list`
}

TEST(JsonTest, AdoptAndRelease) {
  Json a = Json::Adopt(jv_string("x"));
  jv raw = a.Release();
  EXPECT_TRUE(a.IsNull());
  EXPECT_STREQ(jv_string_value(raw), "x");
  jv_free(raw);
  Json b = Json::String("y");
  jv copy = b.CopyJv();
  EXPECT_EQ(jv_get_refcnt(b.Peek()), 2);
  jv_free(copy);
}

}  // namespace
}  // namespace baton
