#include "conformance/fixture_routes.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "base/json.h"

namespace baton::conformance {
namespace {

using testing::FixtureRequest;
using testing::FixtureResponse;

constexpr char kHost[] = "127.0.0.1:40123";

FixtureResponse Get(std::string path, std::string query = "",
                    std::map<std::string, std::string> headers = {}) {
  FixtureRequest request;
  request.method = "GET";
  request.path = std::move(path);
  request.query = std::move(query);
  request.target = request.path + (request.query.empty() ? "" : "?" + request.query);
  request.headers = std::move(headers);
  return HandleCtkRequest(request, kHost, R"({"host": "@HOST@", "again": "@HOST@"})");
}

Json Body(const FixtureResponse& response) {
  Result<Json> body = Json::Parse(response.body);
  EXPECT_TRUE(body.ok()) << response.body;
  return body.ok() ? *body : Json();
}

std::string ReadSwaggerTemplate() {
  std::ifstream in(std::string(BATON_CTK_FIXTURE_DIR) + "/petstore_swagger.template.json");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FixtureRoutesTest, FindByStatus) {
  FixtureResponse response = Get("/v2/pet/findByStatus", "status=available");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers["Content-Type"], "application/json");
  Json pets = Body(response);
  ASSERT_EQ(pets.size(), 2u);
  EXPECT_EQ(pets.At(0).Get("id"), Json::Number(1));
  EXPECT_EQ(pets.At(0).Get("name"), Json::String("Milou"));
  EXPECT_EQ(pets.At(1).Get("status"), Json::String("available"));
  EXPECT_EQ(Body(Get("/v2/pet/findByStatus", "status=sold&status=available")).size(), 2u);
  EXPECT_EQ(Body(Get("/v2/pet/findByStatus", "status=sold%2Cavailable")).size(), 2u);
  EXPECT_EQ(Body(Get("/v2/pet/findByStatus", "status=sold")).size(), 0u);
  EXPECT_EQ(Body(Get("/v2/pet/findByStatus", "")).size(), 0u);
  EXPECT_EQ(Body(Get("/v2/pet/findByStatus", "state=available")).size(), 0u);
}

TEST(FixtureRoutesTest, PetsById) {
  EXPECT_EQ(Body(Get("/v2/pet/1")),
            *Json::Parse(R"({"id":1,"name":"Milou","status":"available"})"));
  EXPECT_EQ(Body(Get("/v2/pet/2")).Get("name"), Json::String("Rantanplan"));
  EXPECT_EQ(Get("/v2/pet/3").status, 404);
  EXPECT_EQ(Get("/v2/pet/1/").status, 404);
}

TEST(FixtureRoutesTest, PetByNameIsNotFound) {
  FixtureResponse response = Get("/v2/pet/getPetByName/Milou");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Body(response), *Json::Parse(R"({"code":404,"type":"unknown","message":"not found"})"));
}

TEST(FixtureRoutesTest, SwaggerGetsTheFixtureHost) {
  FixtureResponse response = Get("/v2/swagger.json");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"host": "127.0.0.1:40123", "again": "127.0.0.1:40123"})");
}

TEST(FixtureRoutesTest, TheSwaggerTemplateDescribesBothOperations) {
  std::string text = ReadSwaggerTemplate();
  ASSERT_FALSE(text.empty());
  FixtureRequest request;
  request.method = "GET";
  request.path = "/v2/swagger.json";
  Result<Json> swagger = Json::Parse(HandleCtkRequest(request, kHost, text).body);
  ASSERT_TRUE(swagger.ok()) << swagger.status().ToString();
  EXPECT_EQ(swagger->Get("swagger"), Json::String("2.0"));
  EXPECT_EQ(swagger->Get("host"), Json::String(kHost));
  EXPECT_EQ(swagger->Get("basePath"), Json::String("/v2"));
  EXPECT_EQ(swagger->Get("schemes"), *Json::Parse(R"(["http"])"));
  Json find = swagger->AtPointer("/paths/~1pet~1findByStatus/get");
  EXPECT_EQ(find.Get("operationId"), Json::String("findPetsByStatus"));
  EXPECT_EQ(find.AtPointer("/parameters/0/in"), Json::String("query"));
  EXPECT_EQ(find.AtPointer("/parameters/0/collectionFormat"), Json::String("multi"));
  Json by_id = swagger->AtPointer("/paths/~1pet~1{petId}/get");
  EXPECT_EQ(by_id.Get("operationId"), Json::String("getPetById"));
  EXPECT_EQ(by_id.AtPointer("/parameters/0/in"), Json::String("path"));
  EXPECT_EQ(by_id.AtPointer("/parameters/0/type"), Json::String("integer"));
}

TEST(FixtureRoutesTest, BasicAuthNeedsTheExactCredentials) {
  const std::string path = "/basic-auth/serverless-workflow/conformance-test";
  // The header value is the one in IMPLEMENTERS-NOTES.md, not recomputed by our own encoder.
  FixtureResponse ok =
      Get(path, "", {{"authorization", "Basic c2VydmVybGVzcy13b3JrZmxvdzpjb25mb3JtYW5jZS10ZXN0"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Body(ok), *Json::Parse(R"({"authenticated":true,"user":"serverless-workflow"})"));

  FixtureResponse none = Get(path);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["WWW-Authenticate"], R"(Basic realm="Fake Realm")");
  EXPECT_EQ(
      Get(path, "", {{"authorization", "Basic " + Base64Encode("serverless-workflow:x")}}).status,
      401);
  EXPECT_EQ(
      Get(path, "", {{"authorization", "Bearer c2VydmVybGVzcy13b3JrZmxvdzpjb25mb3JtYW5jZS10ZXN0"}})
          .status,
      401);
  EXPECT_EQ(Get("/basic-auth/a", "", {}).status, 404);
  EXPECT_EQ(Get("/basic-auth/a/b/c", "", {}).status, 404);
}

TEST(FixtureRoutesTest, OtherMethodsAndPaths) {
  FixtureRequest post;
  post.method = "POST";
  post.path = "/v2/pet/1";
  FixtureResponse response = HandleCtkRequest(post, kHost, "");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers["Allow"], "GET");
  post.method = "get";  // methods are case-sensitive
  EXPECT_EQ(HandleCtkRequest(post, kHost, "").status, 405);
  FixtureResponse unknown = Get("/v2/store/inventory");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Body(unknown), *Json::Parse(R"({"code":404})"));
}

TEST(FixtureRoutesTest, ParseQueryDecodes) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ParseQuery("a=1&a=2&b&&c=x%20y+z%2"),
            (Pairs{{"a", "1"}, {"a", "2"}, {"b", ""}, {"c", "x y z%2"}}));
  EXPECT_EQ(ParseQuery(""), Pairs{});
}

TEST(FixtureRoutesTest, Base64) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("\xff\xfe"), "//4=");
}

}  // namespace
}  // namespace baton::conformance
