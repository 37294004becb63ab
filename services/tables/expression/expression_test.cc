#include "services/tables/expression/expression.h"

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/tables/expression/reserved_words.h"

namespace thingtank::tables::expr {
namespace {

v1::AttributeValue S(const std::string& s) {
  v1::AttributeValue v;
  v.set_s(s);
  return v;
}
v1::AttributeValue N(const std::string& n) {
  v1::AttributeValue v;
  v.set_n(n);
  return v;
}
v1::AttributeValue B(const std::string& b) {
  v1::AttributeValue v;
  v.set_b(b);
  return v;
}
v1::AttributeValue Bool(bool b) {
  v1::AttributeValue v;
  v.set_bool_value(b);
  return v;
}
v1::AttributeValue Null() {
  v1::AttributeValue v;
  v.set_null_value(true);
  return v;
}
v1::AttributeValue L(std::initializer_list<v1::AttributeValue> items) {
  v1::AttributeValue v;
  v.mutable_l();
  for (const auto& i : items) *v.mutable_l()->add_values() = i;
  return v;
}
v1::AttributeValue M(std::initializer_list<std::pair<const std::string, v1::AttributeValue>> f) {
  v1::AttributeValue v;
  v.mutable_m();
  for (const auto& [k, x] : f) (*v.mutable_m()->mutable_fields())[k] = x;
  return v;
}
v1::AttributeValue SS(std::initializer_list<std::string> s) {
  v1::AttributeValue v;
  for (const auto& x : s) v.mutable_ss()->add_values(x);
  return v;
}
v1::AttributeValue NS(std::initializer_list<std::string> s) {
  v1::AttributeValue v;
  for (const auto& x : s) v.mutable_ns()->add_values(x);
  return v;
}
v1::AttributeValue BS(std::initializer_list<std::string> s) {
  v1::AttributeValue v;
  for (const auto& x : s) v.mutable_bs()->add_values(x);
  return v;
}

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    values_[":s"] = S("hello world");
    values_[":hello"] = S("hello");
    values_[":n1"] = N("1");
    values_[":n2"] = N("2");
    values_[":n10"] = N("10");
    values_[":neg"] = N("-5");
    values_[":b"] = B(std::string("\x01\x02", 2));
    values_[":lst"] = L({S("x")});
    values_[":empty"] = L({});
    values_[":ss"] = SS({"a", "b"});
    values_[":ns"] = NS({"1", "2.0"});
    values_[":bs"] = BS({"z"});
    values_[":true"] = Bool(true);
    values_[":tS"] = S("S");
    values_[":tN"] = N("3");
    values_[":tbad"] = S("STRING");
    names_["#d"] = "date";
    names_["#n"] = "name";
    item_["a"] = N("2");
    item_["s"] = S("hello world");
    item_["b"] = B(std::string("\x01\x02\x03", 3));
    item_["flag"] = Bool(true);
    item_["nothing"] = Null();
    item_["date"] = S("2024-01-01");
    item_["name"] = S("widget");
    item_["tags"] = SS({"a", "b", "c"});
    item_["nums"] = NS({"1", "10", "100"});
    item_["bins"] = BS({"z", "y"});
    item_["lst"] = L({S("x"), N("5"), M({{"deep", S("v")}})});
    item_["mp"] = M({{"in1", M({{"x", N("7")}, {"y", S("why")}})}, {"k", S("v")}});
  }

  absl::StatusOr<Condition> ParseCondition(absl::string_view text) {
    Substitutions subs(&names_, &values_);
    return Condition::Parse(text, "condition_expression", &subs);
  }

  bool Eval(absl::string_view text) { return EvalOn(text, item_); }

  bool EvalOn(absl::string_view text, const AttributeMap& item) {
    auto c = ParseCondition(text);
    EXPECT_TRUE(c.ok()) << text << ": " << c.status();
    return c.ok() && c->Evaluate(item);
  }

  // Parses, expecting INVALID_ARGUMENT naming the field and `position`.
  void ExpectConditionError(absl::string_view text, size_t position,
                            absl::string_view fragment = "") {
    auto c = ParseCondition(text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(ErrorField(c.status()), "condition_expression");
    EXPECT_EQ(ErrorReason(c.status()), "ValidationException");
    EXPECT_TRUE(absl::StrContains(c.status().message(),
                                  "at position " + std::to_string(position)))
        << text << " -> " << c.status().message();
    EXPECT_TRUE(absl::StrContains(c.status().message(), "Invalid ConditionExpression"))
        << c.status().message();
    EXPECT_TRUE(absl::StrContains(c.status().message(), fragment))
        << text << " -> " << c.status().message();
  }

  absl::StatusOr<Update> ParseUpdate(absl::string_view text) {
    Substitutions subs(&names_, &values_);
    return Update::Parse(text, "update_expression", &subs);
  }

  // Applies `text` to `item`, expecting success.
  AttributeMap Updated(absl::string_view text, AttributeMap item) {
    auto u = ParseUpdate(text);
    EXPECT_TRUE(u.ok()) << text << ": " << u.status();
    if (!u.ok()) return item;
    absl::Status s = u->Apply(&item);
    EXPECT_TRUE(s.ok()) << text << ": " << s;
    return item;
  }

  NameMap names_;
  AttributeMap values_;
  AttributeMap item_;
};

// ---- Parser errors ----

TEST_F(ExpressionTest, SyntaxErrorsNamePositionAndToken) {
  ExpectConditionError("(a = :n1", 8, "token: \"<EOF>\"");            // unbalanced
  ExpectConditionError("a = :n1)", 7, "token: \")\"");                // unbalanced
  ExpectConditionError("a = ", 4, "Syntax error");                    // absent operand
  ExpectConditionError("a = :n1 AND", 11, "Syntax error");            // absent operand
  ExpectConditionError("a = :n1 $ b", 8, "token: \"$\"");             // bad character
  ExpectConditionError("a :n1", 2, "token: \":n1\"");                 // absent comparator
  ExpectConditionError("a BETWEEN :n1 :n2", 14, "token: \":n2\"");    // absent AND
  ExpectConditionError("a IN :n1", 5, "token: \":n1\"");              // IN without parens
  ExpectConditionError("a[x] = :n1", 2, "token: \"x\"");              // bad index
  ExpectConditionError("a = : ", 4, "token: \":\"");                  // bare colon
}

TEST_F(ExpressionTest, EmptyExpressionIsAnError) {
  auto c = ParseCondition("   ");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(c.status().message(), "can not be empty"));
}

TEST_F(ExpressionTest, UnknownFunction) {
  ExpectConditionError("a = :n1 AND frobnicate(a)", 12,
                       "Invalid function name; function: frobnicate");
  ExpectConditionError("a = lower(:s)", 4, "Invalid function name; function: lower");
  // Function names are case-sensitive.
  ExpectConditionError("ATTRIBUTE_EXISTS(a)", 0, "Invalid function name");
  ExpectConditionError("attribute_exists(:n1)", 0, "requires a document path");
  ExpectConditionError("begins_with(s)", 0, "number of operands: 1");
  ExpectConditionError("attribute_type(a, :tbad)", 18, "Invalid attribute type name");
  ExpectConditionError("size(s)", 7, "Syntax error");
  ExpectConditionError("contains(a, :n1) = :true", 17, "Syntax error");
}

TEST_F(ExpressionTest, ReservedWords) {
  EXPECT_GE(ReservedWordCount(), 570u);
  for (const char* w : {"date", "NAME", "Time", "status", "value", "data", "count", "size", "key",
                        "table", "user", "year", "timestamp"}) {
    EXPECT_TRUE(IsReservedWord(w)) << w;
  }
  EXPECT_FALSE(IsReservedWord("msgid"));
  EXPECT_FALSE(IsReservedWord("Body"));
  ExpectConditionError("date = :s", 0, "Attribute name is a reserved keyword; reserved keyword: date");
  ExpectConditionError("a = :n1 AND mp.status = :s", 15, "reserved keyword: status");
  // Substituted names may be reserved words.
  EXPECT_TRUE(Eval("#d = :tS OR begins_with(#d, :tS) OR attribute_exists(#n)"));
}

TEST_F(ExpressionTest, MissingSubstitutions) {
  ExpectConditionError("a = :absent", 4,
                       "An expression attribute value used in expression is not defined; "
                       "attribute value: :absent");
  ExpectConditionError("#nope = :n1", 0, "attribute name: #nope");
}

TEST_F(ExpressionTest, UnusedSubstitutions) {
  NameMap names;
  names["#a"] = "a";
  names["#unused"] = "x";
  AttributeMap values;
  values[":v"] = N("1");
  values[":w"] = N("2");
  Substitutions subs(&names, &values);
  ASSERT_TRUE(Condition::Parse("#a = :v", "condition_expression", &subs).ok());
  absl::Status s = subs.CheckAllUsed();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(s), "expression_attribute_names");
  EXPECT_TRUE(absl::StrContains(s.message(), "keys: {#unused}")) << s;
  names.erase("#unused");
  s = subs.CheckAllUsed();
  EXPECT_EQ(ErrorField(s), "expression_attribute_values");
  EXPECT_TRUE(absl::StrContains(
      s.message(), "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"))
      << s;
  ASSERT_TRUE(Condition::Parse("a < :w", "filter_expression", &subs).ok());
  EXPECT_TRUE(subs.CheckAllUsed().ok());
  Substitutions none(nullptr, nullptr);
  EXPECT_TRUE(none.CheckAllUsed().ok());
}

TEST_F(ExpressionTest, FilterFieldLabel) {
  Substitutions subs(&names_, &values_);
  auto c = Condition::Parse("a = ", "filter_expression", &subs);
  EXPECT_EQ(ErrorField(c.status()), "filter_expression");
  EXPECT_TRUE(absl::StartsWith(c.status().message(), "filter_expression: Invalid FilterExpression"))
      << c.status();
}

TEST_F(ExpressionTest, NestingIsBounded) {
  std::string deep(5000, '(');
  auto c = ParseCondition(deep + "a = :n1" + std::string(5000, ')'));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "NOT ";
  EXPECT_EQ(ParseCondition(nots + "a = :n1").status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- Evaluation ----

TEST_F(ExpressionTest, ComparisonsAreTyped) {
  EXPECT_TRUE(Eval("a = :n2"));
  EXPECT_TRUE(Eval("a < :n10"));   // numerically: 2 < 10
  EXPECT_TRUE(Eval("a > :neg"));
  EXPECT_TRUE(Eval("a >= :n2 AND a <= :n2"));
  EXPECT_FALSE(Eval("a <> :n2"));
  EXPECT_TRUE(Eval("s = :s"));
  EXPECT_TRUE(Eval("s > :hello"));
  EXPECT_FALSE(Eval("s < :n1"));   // mismatched types: false
  EXPECT_FALSE(Eval("s > :n1"));
  EXPECT_TRUE(Eval("s <> :n1"));   // <> is NOT =
  EXPECT_FALSE(Eval("absent = :n1"));
  EXPECT_FALSE(Eval("absent < :n1"));
  EXPECT_TRUE(Eval("absent <> :n1"));  // see condition.cc
  EXPECT_TRUE(Eval("NOT absent = :n1"));
  EXPECT_TRUE(Eval("tags = :ss") == false);
  values_[":tags"] = SS({"c", "a", "b"});
  EXPECT_TRUE(Eval("tags = :tags"));  // sets compare as sets
  values_[":nums"] = NS({"100", "1.0", "10"});
  EXPECT_TRUE(Eval("nums = :nums"));
  EXPECT_TRUE(Eval("mp.in1.x > :n2"));
  EXPECT_TRUE(Eval("lst[1] > :n2"));
  EXPECT_TRUE(Eval("lst[2].deep = lst[2].deep"));
  EXPECT_FALSE(Eval("lst[7] = :n1"));
  EXPECT_TRUE(Eval("flag = :true"));
  EXPECT_TRUE(Eval("b < :ss") == false);
}

// Query uses these to refuse filters on key attributes.
TEST_F(ExpressionTest, ConditionTopLevelNames) {
  auto c = ParseCondition(
      "#n = :s AND (size(lst[0]) > :n1 OR NOT attribute_exists(mp.in1.x)) AND "
      "qty BETWEEN :n1 AND :n2 AND contains(#n, :s)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->TopLevelNames(), (std::vector<std::string>{"name", "lst", "mp", "qty"}));
}

TEST_F(ExpressionTest, BetweenAndIn) {
  EXPECT_TRUE(Eval("a BETWEEN :n1 AND :n10"));
  EXPECT_TRUE(Eval("a between :n2 and :n2"));
  EXPECT_FALSE(Eval("a BETWEEN :neg AND :n1"));
  EXPECT_FALSE(Eval("s BETWEEN :n1 AND :n10"));
  ExpectConditionError("a BETWEEN :n10 AND :n1", 2, "upper bound");
  EXPECT_TRUE(Eval("a IN (:n1, :n2)"));
  EXPECT_TRUE(Eval("a in (:n2)"));
  EXPECT_FALSE(Eval("a IN (:n1, :n10, :s)"));
  EXPECT_FALSE(Eval("absent IN (:n1)"));
  std::string many = "a IN (";
  for (int i = 0; i < 101; ++i) many += (i ? ", :n1" : ":n1");
  ExpectConditionError(many + ")", 2, "too many operands");
}

TEST_F(ExpressionTest, LogicalPrecedence) {
  // NOT > AND > OR: true OR (false AND false) = true.
  EXPECT_TRUE(Eval("a = :n2 OR a = :n1 AND a = :n10"));
  // (true OR false) AND false = false.
  EXPECT_FALSE(Eval("(a = :n2 OR a = :n1) AND a = :n10"));
  // NOT binds tighter than AND: (NOT false) AND true.
  EXPECT_TRUE(Eval("NOT a = :n1 AND a = :n2"));
  EXPECT_FALSE(Eval("NOT (a = :n1 OR a = :n2)"));
  EXPECT_TRUE(Eval("not not a = :n2"));
  EXPECT_TRUE(Eval("a = :n1 or (s = :s and not (flag <> :true))"));
}

TEST_F(ExpressionTest, Functions) {
  EXPECT_TRUE(Eval("attribute_exists(a)"));
  EXPECT_TRUE(Eval("attribute_exists(mp.in1.y)"));
  EXPECT_FALSE(Eval("attribute_exists(mp.in1.z)"));
  EXPECT_TRUE(Eval("attribute_not_exists(zzz)"));
  EXPECT_TRUE(EvalOn("attribute_not_exists(a)", AttributeMap()));
  EXPECT_TRUE(Eval("attribute_exists(nothing)"));  // NULL exists
  EXPECT_TRUE(Eval("attribute_type(s, :tS)"));
  EXPECT_FALSE(Eval("attribute_type(a, :tS)"));
  for (const auto& [attr, type] : std::vector<std::pair<std::string, std::string>>{
           {"a", "N"}, {"b", "B"}, {"flag", "BOOL"}, {"nothing", "NULL"}, {"lst", "L"},
           {"mp", "M"}, {"tags", "SS"}, {"nums", "NS"}, {"bins", "BS"}}) {
    values_[":t"] = S(type);
    EXPECT_TRUE(Eval("attribute_type(" + attr + ", :t)")) << attr;
  }
  EXPECT_TRUE(Eval("begins_with(s, :hello)"));
  EXPECT_FALSE(Eval("begins_with(#n, :hello)"));
  EXPECT_TRUE(Eval("begins_with(b, :b)"));
  EXPECT_FALSE(Eval("begins_with(a, :n2)"));
  EXPECT_TRUE(Eval("contains(s, :hello)"));
  values_[":c"] = S("c");
  values_[":nn"] = N("1E+1");
  EXPECT_TRUE(Eval("contains(tags, :c)"));
  EXPECT_FALSE(Eval("contains(tags, :hello)"));
  EXPECT_TRUE(Eval("contains(nums, :nn)"));  // numeric membership: 10
  values_[":z"] = B("z");
  EXPECT_TRUE(Eval("contains(bins, :z)"));
  values_[":x"] = S("x");
  EXPECT_TRUE(Eval("contains(lst, :x)"));
  EXPECT_FALSE(Eval("contains(a, :n2)"));
  // size: bytes of strings (UTF-8), binary length, element counts.
  values_[":11"] = N("11");
  values_[":3"] = N("3");
  values_[":4"] = N("4");
  EXPECT_TRUE(Eval("size(s) = :11"));
  EXPECT_TRUE(Eval("size(b) = :3"));
  EXPECT_TRUE(Eval("size(tags) = :3 AND size(lst) = :3 AND size(nums) = :3"));
  EXPECT_TRUE(Eval("size(mp) = :n2 AND size(mp.in1) = :n2"));
  EXPECT_TRUE(Eval("size(bins) < :4"));
  item_["utf"] = S("\xC3\xA9t\xC3\xA9");  // "été": 5 bytes
  values_[":5"] = N("5");
  EXPECT_TRUE(Eval("size(utf) = :5"));
  EXPECT_FALSE(Eval("size(a) = :n1"));
  EXPECT_FALSE(Eval("size(absent) = :n1"));
  EXPECT_TRUE(Eval("size(s) > size(b)"));
}

TEST_F(ExpressionTest, KeywordsAreCaseInsensitive) {
  EXPECT_TRUE(Eval("a = :n2 aNd NoT a = :n1 Or a = :n10"));
  EXPECT_TRUE(Eval("a BeTwEeN :n1 AnD :n10"));
}

// ---- CompareScalars / Equal ----

TEST(ValuesTest, CompareScalarsAndEqual) {
  EXPECT_EQ(CompareScalars(N("2"), N("10")), -1);
  EXPECT_EQ(CompareScalars(N("1.0"), N("1")), 0);
  EXPECT_EQ(CompareScalars(S("b"), S("a")), 1);
  EXPECT_EQ(CompareScalars(B(std::string("\xff", 1)), B("a")), 1);  // unsigned bytes
  EXPECT_EQ(CompareScalars(S("1"), N("1")), std::nullopt);
  EXPECT_EQ(CompareScalars(Bool(true), Bool(true)), std::nullopt);
  EXPECT_TRUE(Equal(M({{"a", L({N("1"), SS({"x", "y"})})}}), M({{"a", L({N("1.00"), SS({"y", "x"})})}})));
  EXPECT_FALSE(Equal(L({N("1")}), L({N("1"), N("2")})));
  EXPECT_FALSE(Equal(SS({"a"}), SS({"a", "b"})));
  EXPECT_TRUE(Equal(Null(), Null()));
  EXPECT_FALSE(Equal(S("1"), N("1")));
}

// ---- Update ----

TEST_F(ExpressionTest, UpdateSet) {
  AttributeMap item = Updated("SET a = a + :n10, c = :s, s = :n1", item_);
  EXPECT_EQ(item["a"].n(), "12");
  EXPECT_EQ(item["c"].s(), "hello world");
  EXPECT_EQ(item["s"].n(), "1");
  item = Updated("SET a = a - :n10", item_);
  EXPECT_EQ(item["a"].n(), "-8");
  item = Updated("SET a = :n10 - a", item_);
  EXPECT_EQ(item["a"].n(), "8");
  // Every operand reads the item before the update.
  item = Updated("SET a = :n10, cp = a", item_);
  EXPECT_EQ(item["a"].n(), "10");
  EXPECT_EQ(item["cp"].n(), "2");
  // Nested paths and lst indexes; an index past the end appends.
  item = Updated("SET mp.in1.x = :n1, mp.newkey = :s, lst[0] = :n2, lst[10] = :true", item_);
  EXPECT_EQ(item["mp"].m().fields().at("in1").m().fields().at("x").n(), "1");
  EXPECT_EQ(item["mp"].m().fields().at("newkey").s(), "hello world");
  EXPECT_EQ(item["lst"].l().values(0).n(), "2");
  EXPECT_EQ(item["lst"].l().values_size(), 4);
  EXPECT_TRUE(item["lst"].l().values(3).bool_value());
  // if_not_exists and list_append.
  item = Updated("SET a = if_not_exists(a, :n10), cnt = if_not_exists(cnt, :n1)", item_);
  EXPECT_EQ(item["a"].n(), "2");
  EXPECT_EQ(item["cnt"].n(), "1");
  item = Updated("SET lst = list_append(lst, :lst), l2 = list_append(:lst, lst)", item_);
  EXPECT_EQ(item["lst"].l().values_size(), 4);
  EXPECT_EQ(item["lst"].l().values(3).s(), "x");
  EXPECT_EQ(item["l2"].l().values(0).s(), "x");
  EXPECT_EQ(item["l2"].l().values_size(), 4);
  item = Updated("SET h = list_append(if_not_exists(h, :empty), :lst)", item_);
  EXPECT_EQ(item["h"].l().values_size(), 1);
  // Counter on a new item.
  item = Updated("SET visits = if_not_exists(visits, :n1) + :n1", AttributeMap());
  EXPECT_EQ(item["visits"].n(), "2");
  // Substituted names.
  item = Updated("set #d = :s", item_);
  EXPECT_EQ(item["date"].s(), "hello world");
}

TEST_F(ExpressionTest, UpdateSetErrors) {
  AttributeMap item = item_;
  for (const char* text : {"SET s = s + :n1", "SET a = absent + :n1", "SET l = list_append(a, :lst)",
                           "SET zz.y = :n1", "SET a[0] = :n1"}) {
    auto u = ParseUpdate(text);
    ASSERT_TRUE(u.ok()) << text << ": " << u.status();
    absl::Status s = u->Apply(&item);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(ErrorField(s), "update_expression") << text;
  }
  // Nothing changed on failure (atomic), even if an earlier action was fine.
  auto u = ParseUpdate("SET ok = :n1, s = s + :n1");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->Apply(&item).ok());
  EXPECT_EQ(item.count("ok"), 0u);
  // 38-digit limit on arithmetic.
  values_[":big"] = N("1E+37");
  item["a"] = N("0.1");
  u = ParseUpdate("SET a = a + :big");
  ASSERT_TRUE(u.ok());
  absl::Status s = u->Apply(&item);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "38 significant digits")) << s;
}

TEST_F(ExpressionTest, UpdateRemove) {
  AttributeMap item = Updated("REMOVE s, mp.in1.y, lst[0], lst[2]", item_);
  EXPECT_EQ(item.count("s"), 0u);
  EXPECT_EQ(item["mp"].m().fields().at("in1").m().fields().count("y"), 0u);
  ASSERT_EQ(item["lst"].l().values_size(), 1);
  EXPECT_EQ(item["lst"].l().values(0).n(), "5");  // indexes refer to the lst before
  item = Updated("REMOVE lst[9], nope, nope2.x", item_);  // absent: no-op
  EXPECT_EQ(item["lst"].l().values_size(), 3);
}

TEST_F(ExpressionTest, UpdateAdd) {
  AttributeMap item = Updated("ADD a :n10, fresh :neg, tags :ss, nums :ns, newset :ss, bins :bs",
                              item_);
  EXPECT_EQ(item["a"].n(), "12");
  EXPECT_EQ(item["fresh"].n(), "-5");
  EXPECT_EQ(item["tags"].ss().values_size(), 3);  // a, b already there
  EXPECT_EQ(item["nums"].ns().values_size(), 4);  // 1 == 1, 2.0 new
  EXPECT_EQ(item["newset"].ss().values_size(), 2);
  EXPECT_EQ(item["bins"].bs().values_size(), 2);
  auto u = ParseUpdate("ADD s :n1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->Apply(&item).code(), absl::StatusCode::kInvalidArgument);
  u = ParseUpdate("ADD tags :ns");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->Apply(&item).code(), absl::StatusCode::kInvalidArgument);
  auto bad = ParseUpdate("ADD a :s");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "operator: ADD, operand type: STRING"));
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "at position 6"));
}

TEST_F(ExpressionTest, UpdateDelete) {
  values_[":abc"] = SS({"a", "b", "c", "q"});
  values_[":one"] = NS({"1.00"});
  AttributeMap item = Updated("DELETE tags :ss, nums :one, absent :ss", item_);
  ASSERT_EQ(item["tags"].ss().values_size(), 1);
  EXPECT_EQ(item["tags"].ss().values(0), "c");
  EXPECT_EQ(item["nums"].ns().values_size(), 2);
  EXPECT_EQ(item.count("absent"), 0u);
  item = Updated("DELETE tags :abc", item_);
  EXPECT_EQ(item.count("tags"), 0u);  // empty set: attribute removed
  auto bad = ParseUpdate("DELETE tags :n1");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto u = ParseUpdate("DELETE s :ss");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->Apply(&item).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ExpressionTest, UpdateClausesCombine) {
  AttributeMap item = Updated("remove s ADD a :n1 SET c = :n2 DELETE tags :ss", item_);
  EXPECT_EQ(item.count("s"), 0u);
  EXPECT_EQ(item["a"].n(), "3");
  EXPECT_EQ(item["c"].n(), "2");
  EXPECT_EQ(item["tags"].ss().values_size(), 1);
  auto u = ParseUpdate("SET z = :n1 REMOVE s, a ADD c :n1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->TopLevelNames(), (std::vector<std::string>{"z", "s", "a", "c"}));
}

TEST_F(ExpressionTest, UpdateParseErrors) {
  struct Case {
    const char* text;
    const char* fragment;
  };
  for (const Case& c : std::vector<Case>{
           {"SET a = :n1 SET b = :n1", "\"SET\" section can only be used once"},
           {"SET a = :n1, a = :n2", "Two document paths overlap"},
           {"SET mp.in1 = :n1 REMOVE mp.in1.x", "Two document paths overlap"},
           {"SET a = :n1, lst[1] = :n2 REMOVE lst[1]", "Two document paths overlap"},
           {"SET a :n1", "Syntax error; token: \":n1\""},
           {"UPSERT a = :n1", "Syntax error; token: \"UPSERT\""},
           {"SET a = frob(b)", "Invalid function name; function: frob"},
           {"SET a = :n1,", "Syntax error; token: \"<EOF>\""},
           {"REMOVE", "Syntax error"},
           {"SET a = b + ", "Syntax error"},
           {"SET date = :n1", "reserved keyword: date"},
           {"SET a = :nope", "attribute value: :nope"},
           {"SET a = :n1 junk", "token: \"junk\""},
       }) {
    auto u = ParseUpdate(c.text);
    ASSERT_FALSE(u.ok()) << c.text;
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(ErrorField(u.status()), "update_expression");
    EXPECT_TRUE(absl::StrContains(u.status().message(), c.fragment))
        << c.text << " -> " << u.status().message();
    if (!absl::StrContains(c.fragment, "overlap")) {
      EXPECT_TRUE(absl::StrContains(u.status().message(), "at position "))
          << c.text << " -> " << u.status().message();
    }
  }
}

// ---- Projection ----

TEST_F(ExpressionTest, ProjectionOfNestedPaths) {
  Substitutions subs(&names_, &values_);
  auto p = Projection::Parse("a, mp.in1.x, lst[2].deep, lst[0], #n, absent, mp.nope",
                             "projection_expression", &subs);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->paths().size(), 7u);
  AttributeMap out = p->Apply(item_);
  EXPECT_EQ(out.size(), 4u);  // a, mp, lst, name
  EXPECT_EQ(out["a"].n(), "2");
  EXPECT_EQ(out["name"].s(), "widget");
  const auto& mp = out["mp"].m().fields();
  ASSERT_EQ(mp.size(), 1u);
  ASSERT_EQ(mp.at("in1").m().fields().size(), 1u);
  EXPECT_EQ(mp.at("in1").m().fields().at("x").n(), "7");
  const auto& lst = out["lst"].l();
  ASSERT_EQ(lst.values_size(), 2);  // index order, compacted
  EXPECT_EQ(lst.values(0).s(), "x");
  EXPECT_EQ(lst.values(1).m().fields().at("deep").s(), "v");

  auto bad = Projection::Parse("a, , b", "projection_expression", &subs);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "at position 3")) << bad.status();
  bad = Projection::Parse("mp, mp.in1", "projection_expression", &subs);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "overlap")) << bad.status();
  bad = Projection::Parse("a, data", "projection_expression", &subs);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "reserved keyword: data")) << bad.status();
}

// ---- Key conditions ----

TEST_F(ExpressionTest, KeyConditions) {
  values_[":id"] = S("device-1");
  values_[":t1"] = S("2024-01-01");
  values_[":t2"] = S("2024-02-01");
  names_["#t"] = "time";
  auto parse = [&](absl::string_view text) {
    Substitutions subs(&names_, &values_);
    return KeyCondition::Parse(text, "key_condition_expression", &subs);
  };
  auto kc = parse("msgid = :id");
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->hash_name, "msgid");
  EXPECT_EQ(kc->hash_value.s(), "device-1");
  EXPECT_EQ(kc->range_op, KeyCondition::RangeOp::kNone);

  kc = parse("msgid = :id AND #t BETWEEN :t1 AND :t2");
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->range_name, "time");
  EXPECT_EQ(kc->range_op, KeyCondition::RangeOp::kBetween);
  EXPECT_EQ(kc->range_low.s(), "2024-01-01");
  EXPECT_EQ(kc->range_high.s(), "2024-02-01");

  kc = parse("begins_with(#t, :t1) and msgid = :id");  // either order
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->hash_name, "msgid");
  EXPECT_EQ(kc->range_op, KeyCondition::RangeOp::kBeginsWith);

  kc = parse("#t = :t1 AND msgid = :id");  // two equalities: the caller names the hash key
  ASSERT_TRUE(kc.ok()) << kc.status();
  kc->AssumeHashKey("msgid");
  EXPECT_EQ(kc->hash_name, "msgid");
  EXPECT_EQ(kc->hash_value.s(), "device-1");
  EXPECT_EQ(kc->range_name, "time");
  EXPECT_EQ(kc->range_low.s(), "2024-01-01");
  kc->AssumeHashKey("msgid");  // idempotent
  EXPECT_EQ(kc->hash_name, "msgid");

  const std::vector<std::pair<std::string, KeyCondition::RangeOp>> ops = {
      {"=", KeyCondition::RangeOp::kEq}, {"<", KeyCondition::RangeOp::kLt},
      {"<=", KeyCondition::RangeOp::kLe}, {">", KeyCondition::RangeOp::kGt},
      {">=", KeyCondition::RangeOp::kGe}};
  for (const auto& [op, want] : ops) {
    kc = parse("msgid = :id AND #t " + op + " :t1");
    ASSERT_TRUE(kc.ok()) << op << ": " << kc.status();
    EXPECT_EQ(kc->range_op, want) << op;
    EXPECT_EQ(kc->range_low.s(), "2024-01-01");
  }

  for (const char* bad : {"msgid = :id OR #t = :t1", "msgid <> :id", "#t > :t1",
                          "msgid = :id AND #t > :t1 AND x = :t2", "msgid = :id AND contains(#t, :t1)",
                          "msgid = :id AND msgid = :id", "msgid.x = :id", "msgid = #t",
                          "NOT msgid = :id", "msgid = :id AND", "date = :id"}) {
    auto r = parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(ErrorField(r.status()), "key_condition_expression") << bad;
    EXPECT_TRUE(absl::StrContains(r.status().message(), "Invalid KeyConditionExpression"))
        << r.status();
    EXPECT_TRUE(absl::StrContains(r.status().message(), "position")) << r.status();
  }
}

}  // namespace
}  // namespace thingtank::tables::expr
