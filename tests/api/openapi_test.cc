// Keeps src/api/openapi.json true: every route the Router has is documented with the same
// method, nothing else is, path parameters are declared, and every $ref resolves.
#include "api/openapi.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "api/fake_service.h"
#include "api/router.h"
#include "api/routes.h"
#include "base/json.h"

namespace baton::api {
namespace {

const std::set<std::string> kHttpMethods = {"get",   "put",     "post", "delete",
                                            "patch", "options", "head", "trace"};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

class OpenApiTest : public ::testing::Test {
 protected:
  OpenApiTest() {
    AddRoutes(router_, service_);
    Result<Json> doc = Json::Parse(OpenApiDocument());
    EXPECT_TRUE(doc.ok()) << doc.status().message();
    if (doc.ok()) doc_ = *doc;
  }

  // Follows a local "$ref" ("#/components/...") once.
  Json Resolve(const Json& value) const {
    if (!value.Has("$ref")) return value;
    std::string_view ref = value.Get("$ref").AsString();
    EXPECT_EQ(ref.substr(0, 2), "#/") << ref;
    return doc_.AtPointer(ref.substr(1));
  }

  testing::FakeService service_;
  Router router_;
  Json doc_;
};

TEST_F(OpenApiTest, IsOpenApi3WithPaths) {
  EXPECT_EQ(doc_.Get("openapi").AsString().substr(0, 2), "3.");
  EXPECT_TRUE(doc_.Get("info").Get("title").IsString());
  EXPECT_TRUE(doc_.Get("paths").IsObject());
}

TEST_F(OpenApiTest, DocumentsExactlyTheRegisteredRoutes) {
  std::set<std::string> documented;
  doc_.Get("paths").ForEachMember([&](std::string_view path, const Json& item) {
    item.ForEachMember([&](std::string_view method, const Json&) {
      if (kHttpMethods.count(std::string(method))) {
        documented.insert(Upper(method) + " " + std::string(path));
      }
    });
  });
  std::set<std::string> registered;
  for (const Router::RouteInfo& r : router_.Routes()) registered.insert(r.method + " " + r.pattern);
  EXPECT_EQ(documented, registered);
}

TEST_F(OpenApiTest, DeclaresEveryPathParameterAndEveryResponse) {
  doc_.Get("paths").ForEachMember([&](std::string_view path, const Json& item) {
    std::set<std::string> in_template;
    for (size_t open = path.find('{'); open != std::string_view::npos;
         open = path.find('{', open + 1)) {
      in_template.insert(std::string(path.substr(open + 1, path.find('}', open) - open - 1)));
    }
    item.ForEachMember([&](std::string_view method, const Json& op) {
      if (!kHttpMethods.count(std::string(method))) return;
      std::string where = Upper(method) + " " + std::string(path);
      EXPECT_TRUE(op.Get("operationId").IsString()) << where;
      EXPECT_FALSE(op.Get("responses").empty()) << where;
      std::set<std::string> declared;
      op.Get("parameters").ForEachItem([&](size_t, const Json& p) {
        Json param = Resolve(p);
        EXPECT_TRUE(param.IsObject()) << where;
        if (param.Get("in").AsString() == "path") {
          EXPECT_TRUE(param.Get("required").AsBool()) << where;
          declared.insert(std::string(param.Get("name").AsString()));
        }
      });
      EXPECT_EQ(declared, in_template) << where;
    });
  });
}

TEST_F(OpenApiTest, EveryReferenceResolves) {
  std::function<void(const Json&, const std::string&)> walk = [&](const Json& v,
                                                                  const std::string& at) {
    if (v.IsObject()) {
      if (v.Has("$ref")) {
        EXPECT_FALSE(Resolve(v).IsNull()) << at << ": " << v.Get("$ref").AsString();
      }
      v.ForEachMember(
          [&](std::string_view k, const Json& c) { walk(c, at + "/" + PointerEscape(k)); });
    } else if (v.IsArray()) {
      v.ForEachItem([&](size_t i, const Json& c) { walk(c, at + "/" + std::to_string(i)); });
    }
  };
  walk(doc_, "");
}

TEST_F(OpenApiTest, DescribesTheProblemSchema) {
  Json problem = doc_.AtPointer("/components/schemas/Problem");
  ASSERT_TRUE(problem.IsObject());
  EXPECT_EQ(problem.Get("required").Dump(), R"(["type","title","status","detail"])");
  EXPECT_TRUE(problem.Get("properties").Has("errors"));
}

}  // namespace
}  // namespace baton::api
