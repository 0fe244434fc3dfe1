#include "expr/detach.h"

#include <cstring>

#include <gtest/gtest.h>

#include "base/json.h"

namespace baton::expr {
namespace {

// In these tests a value held in a local variable plays the part of a program constant (or of
// the caller's input): it holds one reference of its own.

TEST(DetachTest, CopiesSmallSharedValuesInsideBuiltOnes) {
  jv constant = jv_string("key");
  jv literal = jv_parse(R"({"x": [1, "y"]})");
  jv result = jv_object_set(jv_object(), jv_copy(constant), jv_copy(literal));
  result = jv_object_set(result, jv_string("fresh"), jv_string("value"));
  jv out = DetachFromProgram(result, 100);
  EXPECT_EQ(jv_get_refcnt(constant), 1);
  EXPECT_EQ(jv_get_refcnt(literal), 1);
  jv want = jv_parse(R"({"key": {"x": [1, "y"]}, "fresh": "value"})");
  EXPECT_TRUE(jv_equal(jv_copy(out), want));
  jv_free(out);
  jv_free(constant);
  jv_free(literal);
}

TEST(DetachTest, CopiesASharedResult) {
  jv constant = jv_string("text");
  jv out = DetachFromProgram(jv_copy(constant), 100);
  EXPECT_EQ(jv_get_refcnt(constant), 1);
  EXPECT_EQ(jv_get_refcnt(out), 1);
  EXPECT_STREQ(jv_string_value(out), "text");
  jv_free(out);
  jv_free(constant);
}

TEST(DetachTest, KeepsLargeInputsShared) {
  jv input = jv_array();
  for (int i = 0; i < 100; ++i) input = jv_array_append(input, jv_string("an item"));
  jv result = jv_object_set(jv_object(), jv_string("k"), jv_copy(input));
  jv out = DetachFromProgram(result, 50);
  jv kept = jv_object_get(jv_copy(out), jv_string("k"));
  EXPECT_TRUE(jv_identical(jv_copy(kept), jv_copy(input)));
  jv_free(kept);
  EXPECT_EQ(jv_get_refcnt(input), 2);  // ours and the output's
  jv_free(out);
  jv_free(input);
}

TEST(DetachTest, CopiesLargeValuesBuiltAndReferencedTwice) {
  jv constant = jv_string("c");
  jv big = jv_array();
  for (int i = 0; i < 100; ++i) big = jv_array_append(big, jv_copy(constant));
  // Only the result references `big`, twice: it was built by the evaluation.
  jv result = jv_array_append(jv_array_append(jv_array(), jv_copy(big)), big);
  jv out = DetachFromProgram(result, 50);
  EXPECT_EQ(jv_get_refcnt(constant), 1);
  EXPECT_EQ(jv_array_length(jv_copy(out)), 2);
  jv_free(out);
  jv_free(constant);
}

TEST(DetachTest, ScalarsPassThrough) {
  jv out = DetachFromProgram(jv_number(3), 10);
  EXPECT_EQ(jv_number_value(out), 3);
  out = DetachFromProgram(jv_null(), 10);
  EXPECT_EQ(jv_get_kind(out), JV_KIND_NULL);
}

TEST(DetachTest, BoundedWeight) {
  jv v = jv_parse(R"({"a": 1})");
  EXPECT_EQ(BoundedWeight(v, 100), 4u);  // object + key "a" (1 + 1) + number
  jv s = jv_string("abc");
  EXPECT_EQ(BoundedWeight(s, 100), 4u);
  jv big = jv_parse("[1,2,3,4,5,6,7,8,9,10]");
  EXPECT_GT(BoundedWeight(big, 5), 5u);
  jv_free(v);
  jv_free(s);
  jv_free(big);
}

TEST(DetachTest, WeightOfALiteralIsAtMostItsLength) {
  for (const char* text :
       {"{}", "[]", "\"\"", "{\"a\":1}", "[1,[2],{\"b\":\"c\"}]", "\"\\u00e9\""}) {
    jv v = jv_parse(text);
    EXPECT_LE(BoundedWeight(v, 1000), strlen(text)) << text;
    jv_free(v);
  }
}

TEST(DetachTest, DeepCopySharesNothing) {
  jv v = jv_parse(R"({"a": ["x", {"b": "y"}], "c": "z"})");
  jv copy = DeepCopyJv(v);
  EXPECT_TRUE(jv_equal(jv_copy(v), jv_copy(copy)));
  EXPECT_EQ(jv_get_refcnt(v), 1);
  jv a = jv_object_get(jv_copy(v), jv_string("a"));
  EXPECT_EQ(jv_get_refcnt(a), 2);  // its object's and ours: nothing in the copy
  jv_free(a);
  jv_free(copy);
  jv_free(v);
}

}  // namespace
}  // namespace baton::expr
