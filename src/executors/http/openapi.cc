#include "executors/http/openapi.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/uri.h"
#include "executors/http/url.h"

namespace baton::executors::http {
namespace {

using engine::ErrorKind;

constexpr int kMaxYamlDepth = 256;
constexpr int kMaxRefHops = 16;

Fault ConfigFault(std::string detail) {
  return MakeFault(ErrorKind::kConfiguration, std::move(detail));
}

// --- YAML → Json ------------------------------------------------------------------------

// A plain YAML scalar under the 1.2 core schema: null, bool, int, float or string.
Json PlainScalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return Json::Null();
  }
  if (text == "true" || text == "True" || text == "TRUE") return Json::Bool(true);
  if (text == "false" || text == "False" || text == "FALSE") return Json::Bool(false);
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == ".inf" || lower == "+.inf") return Json::Number(HUGE_VAL);
  if (lower == "-.inf") return Json::Number(-HUGE_VAL);
  if (lower == ".nan") return Json::Number(std::nan(""));
  const char* begin = text.c_str();
  char* end = nullptr;
  if (lower.rfind("0x", 0) == 0 && text.size() > 2) {
    unsigned long long v = std::strtoull(begin + 2, &end, 16);
    if (*end == '\0') return Json::Number(static_cast<double>(v));
  } else if (lower.rfind("0o", 0) == 0 && text.size() > 2) {
    unsigned long long v = std::strtoull(begin + 2, &end, 8);
    if (*end == '\0') return Json::Number(static_cast<double>(v));
  }
  // Decimal ints and floats: [-+]? digits, optional fraction and exponent; nothing else.
  size_t i = 0;
  if (text[i] == '-' || text[i] == '+') ++i;
  bool digits = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
    ++i;
    digits = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
      digits = true;
    }
  }
  if (digits && i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t exp = i + 1;
    if (exp < text.size() && (text[exp] == '-' || text[exp] == '+')) ++exp;
    size_t exp_digits = exp;
    while (exp < text.size() && std::isdigit(static_cast<unsigned char>(text[exp])) != 0) ++exp;
    if (exp > exp_digits) i = exp;
  }
  if (digits && i == text.size()) return Json::Number(std::strtod(begin, nullptr));
  return Json::String(text);
}

Result<Json> YamlToJson(const YAML::Node& node, int depth) {
  if (depth > kMaxYamlDepth) return Status::InvalidArgument("YAML nesting is too deep");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Json::Null();
    case YAML::NodeType::Scalar:
      // Quoted scalars carry the tag "!": they are strings whatever they look like.
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
        return Json::String(node.Scalar());
      }
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json out = Json::Array();
      for (const YAML::Node& item : node) {
        BATON_ASSIGN_OR_RETURN(Json value, YamlToJson(item, depth + 1));
        out.Append(std::move(value));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::Object();
      for (const auto& member : node) {
        if (!member.first.IsScalar()) {
          return Status::InvalidArgument("YAML mapping keys must be scalars");
        }
        BATON_ASSIGN_OR_RETURN(Json value, YamlToJson(member.second, depth + 1));
        out.Set(member.first.Scalar(), std::move(value));
      }
      return out;
    }
  }
  return Json::Null();
}

// --- Document navigation -----------------------------------------------------------------

// Follows local "$ref"s ("#/components/parameters/x"); other nodes come back unchanged.
Json Deref(const Json& document, Json node) {
  for (int hop = 0; hop < kMaxRefHops && node.IsObject(); ++hop) {
    Json ref = node.Get("$ref");
    if (!ref.IsString() || ref.AsString().empty() || ref.AsString()[0] != '#') break;
    Json target = document.AtPointer(ref.AsString().substr(1));
    if (target.IsNull()) break;
    node = std::move(target);
  }
  return node;
}

struct Operation {
  std::string path;    // template, e.g. "/pet/{petId}"
  std::string method;  // lower-case
  Json path_item;
  Json operation;
};

std::optional<Operation> FindOperation(const Json& document, std::string_view operation_id) {
  static constexpr const char* kMethods[] = {"get",     "put",  "post",  "delete",
                                             "options", "head", "patch", "trace"};
  std::optional<Operation> found;
  document.Get("paths").ForEachMember([&](std::string_view path, const Json& raw_item) {
    if (found) return;
    Json item = Deref(document, raw_item);
    for (const char* method : kMethods) {
      Json op = item.Get(method);
      if (op.IsObject() && op.Get("operationId").IsString() &&
          op.Get("operationId").AsString() == operation_id) {
        found = Operation{std::string(path), method, item, op};
        return;
      }
    }
  });
  return found;
}

// Base URL (no trailing slash) of the operation, resolved against the document URI.
Result<std::string> BaseUrl(const Json& document, std::string_view document_uri,
                            const Operation& op) {
  std::string base;
  if (document.Has("swagger")) {
    Result<UrlParts> doc_parts = ParseHttpUrl(document_uri);
    std::string doc_scheme = doc_parts.ok() ? doc_parts->scheme : "https";
    std::string scheme;
    Json schemes =
        op.operation.Has("schemes") ? op.operation.Get("schemes") : document.Get("schemes");
    schemes.ForEachItem([&](size_t, const Json& s) {
      if (s.IsString() && s.AsString() == doc_scheme) scheme = doc_scheme;
    });
    if (scheme.empty() && schemes.At(0).IsString()) scheme = std::string(schemes.At(0).AsString());
    if (scheme.empty()) scheme = doc_scheme;
    std::string host;
    if (document.Get("host").IsString()) {
      host = std::string(document.Get("host").AsString());
    } else if (doc_parts.ok()) {
      host = doc_parts->host.find(':') != std::string::npos ? "[" + doc_parts->host + "]"
                                                            : doc_parts->host;
      if (!doc_parts->port.empty()) host += ":" + doc_parts->port;
    } else {
      return Status::InvalidArgument("the Swagger document has no host and its URI '" +
                                     std::string(document_uri) + "' has none either");
    }
    std::string base_path = document.Get("basePath").IsString()
                                ? std::string(document.Get("basePath").AsString())
                                : std::string();
    if (!base_path.empty() && base_path[0] != '/') base_path = "/" + base_path;
    base = scheme + "://" + host + base_path;
  } else {
    Json servers = op.operation.Get("servers");
    if (servers.empty()) servers = op.path_item.Get("servers");
    if (servers.empty()) servers = document.Get("servers");
    Json server = servers.At(0);
    std::string url =
        server.Get("url").IsString() ? std::string(server.Get("url").AsString()) : std::string("/");
    // Server variables: {name} → its default.
    server.Get("variables").ForEachMember([&](std::string_view name, const Json& variable) {
      Json fallback = variable.Get("default");
      if (!fallback.IsString()) return;
      std::string token = "{" + std::string(name) + "}";
      for (size_t pos = url.find(token); pos != std::string::npos; pos = url.find(token, pos)) {
        url.replace(pos, token.size(), fallback.AsString());
        pos += fallback.AsString().size();
      }
    });
    if (url.find("://") == std::string::npos) {
      BATON_ASSIGN_OR_RETURN(url, ResolveUrl(document_uri, url));
    }
    base = std::move(url);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string Text(const Json& value) {
  if (value.IsString()) return std::string(value.AsString());
  return value.Dump();
}

std::string Join(const Json& array, std::string_view separator) {
  std::string out;
  array.ForEachItem([&](size_t index, const Json& item) {
    if (index > 0) out += separator;
    out += Text(item);
  });
  return out;
}

bool IsJsonMediaType(std::string_view type) {
  return type == "application/json" || type.find("+json") != std::string_view::npos ||
         type == "*/*";
}

std::string FormEncode(const Json& object) {
  std::string out;
  object.ForEachMember([&](std::string_view key, const Json& value) {
    auto add = [&](const Json& item) {
      if (!out.empty()) out += '&';
      out += PercentEncode(key) + "=" + PercentEncode(Text(item));
    };
    if (value.IsArray()) {
      value.ForEachItem([&](size_t, const Json& item) { add(item); });
    } else if (!value.IsNull()) {
      add(value);
    }
  });
  return out;
}

}  // namespace

Result<Json> ParseApiDocument(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    Result<Json> parsed = Json::Parse(text);
    if (parsed.ok() || text[first] == '[') return parsed;
    // A YAML flow mapping can start with '{' too: fall through to the YAML parser.
  }
  try {
    YAML::Node root = YAML::Load(std::string(text));
    BATON_ASSIGN_OR_RETURN(Json doc, YamlToJson(root, 0));
    if (!doc.IsObject()) return Status::InvalidArgument("the document is not a mapping");
    return doc;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("invalid YAML: ") + e.what());
  }
}

std::string DocumentUri(const Json& request, Json* authentication) {
  *authentication = Json::Null();
  Json document = request.Get("document");
  Json endpoint = document.IsObject() ? document.Get("endpoint") : document;
  if (endpoint.IsObject()) {
    *authentication = endpoint.Get("authentication");
    endpoint = endpoint.Get("uri");
  }
  return endpoint.IsString() ? std::string(endpoint.AsString()) : std::string();
}

std::optional<Fault> ResolveOperation(const Json& document, std::string_view document_uri,
                                      const Json& request, Json* http_request) {
  Json operation_id = request.Get("operationId");
  if (!operation_id.IsString() || operation_id.AsString().empty()) {
    return ConfigFault("openapi call needs an operationId");
  }
  std::optional<Operation> op = FindOperation(document, operation_id.AsString());
  if (!op) {
    return ConfigFault("operation '" + std::string(operation_id.AsString()) +
                       "' not found in OpenAPI document " + std::string(document_uri));
  }
  Result<std::string> base = BaseUrl(document, document_uri, *op);
  if (!base.ok()) return ConfigFault(base.status().message());

  Json args = request.Get("parameters");
  if (!args.IsNull() && !args.IsObject())
    return ConfigFault("openapi parameters must be an object");

  // Declared parameters, path-item level first; the operation overrides by (name, in).
  std::map<std::pair<std::string, std::string>, Json> declared;
  std::vector<std::pair<std::string, std::string>> order;
  for (const Json& list : {op->path_item.Get("parameters"), op->operation.Get("parameters")}) {
    list.ForEachItem([&](size_t, const Json& raw) {
      Json parameter = Deref(document, raw);
      if (!parameter.Get("name").IsString() || !parameter.Get("in").IsString()) return;
      std::pair<std::string, std::string> key{std::string(parameter.Get("name").AsString()),
                                              std::string(parameter.Get("in").AsString())};
      if (declared.count(key) == 0) order.push_back(key);
      declared[key] = parameter;
    });
  }

  bool swagger = document.Has("swagger");
  std::string path = op->path;
  Json query = Json::Object();
  Json headers = Json::Object();
  std::string cookies;
  Json form = Json::Object();
  Json body;
  bool has_body = false;
  std::vector<std::string> used;

  for (const auto& key : order) {
    const auto& [name, in] = key;
    const Json& parameter = declared[key];
    if (!args.Has(name)) {
      if (in == "path") {
        return ConfigFault("operation '" + std::string(operation_id.AsString()) +
                           "' needs the path parameter '" + name + "'");
      }
      continue;
    }
    used.push_back(name);
    Json value = args.Get(name);
    if (in == "path") {
      std::string text = value.IsArray() ? Join(value, ",") : Text(value);
      std::string token = "{" + name + "}";
      std::string encoded = PercentEncode(text);
      for (size_t pos = path.find(token); pos != std::string::npos; pos = path.find(token, pos)) {
        path.replace(pos, token.size(), encoded);
        pos += encoded.size();
      }
    } else if (in == "query") {
      if (value.IsArray()) {
        // Repeat the key (2.0 collectionFormat multi; 3.x form style with explode, its
        // default) or join the items.
        std::string separator = ",";
        bool repeat = false;
        if (swagger) {
          Json format = parameter.Get("collectionFormat");
          std::string f = format.IsString() ? std::string(format.AsString()) : "csv";
          repeat = f == "multi";
          if (f == "ssv") separator = " ";
          if (f == "tsv") separator = "\t";
          if (f == "pipes") separator = "|";
        } else {
          Json style = parameter.Get("style");
          std::string s = style.IsString() ? std::string(style.AsString()) : "form";
          Json explode = parameter.Get("explode");
          repeat = explode.IsNull() ? s == "form" : explode.AsBool();
          if (s == "spaceDelimited") separator = " ";
          if (s == "pipeDelimited") separator = "|";
        }
        if (repeat) {
          query.Set(name, value);
        } else {
          query.Set(name, Json::String(Join(value, separator)));
        }
      } else if (value.IsObject() && !swagger && !parameter.Get("explode").IsBool()) {
        // 3.x form style explodes objects into one parameter per member.
        value.ForEachMember([&](std::string_view member, const Json& v) {
          query.Set(member, Json::String(Text(v)));
        });
      } else {
        query.Set(name, Json::String(Text(value)));
      }
    } else if (in == "header") {
      headers.Set(name, Json::String(value.IsArray() ? Join(value, ",") : Text(value)));
    } else if (in == "cookie") {
      if (!cookies.empty()) cookies += "; ";
      cookies += name + "=" + PercentEncode(Text(value));
    } else if (in == "body") {
      body = value;
      has_body = true;
    } else if (in == "formData") {
      form.Set(name, value);
    }
  }
  if (!cookies.empty()) headers.Set("Cookie", Json::String(cookies));

  // Content type of a body: Swagger `consumes`, or the first OAS3 requestBody media type.
  std::string media_type;
  Json request_body = Deref(document, op->operation.Get("requestBody"));
  if (swagger) {
    Json consumes =
        op->operation.Has("consumes") ? op->operation.Get("consumes") : document.Get("consumes");
    if (consumes.At(0).IsString()) media_type = std::string(consumes.At(0).AsString());
    if (!form.empty()) {
      media_type = "application/x-www-form-urlencoded";
    }
  } else if (request_body.IsObject()) {
    request_body.Get("content").ForEachMember([&](std::string_view type, const Json&) {
      if (media_type.empty()) media_type = std::string(type);
    });
  }

  bool body_declared = swagger ? std::any_of(order.begin(), order.end(),
                                             [](const auto& k) { return k.second == "body"; })
                               : request_body.IsObject();
  if (!has_body && body_declared) {
    // The body travels as parameters.body, or else as the parameters no other `in` used.
    if (args.Has("body") && std::find(used.begin(), used.end(), "body") == used.end()) {
      body = args.Get("body");
      has_body = true;
    } else if (!swagger) {
      Json rest = Json::Object();
      args.ForEachMember([&](std::string_view name, const Json& value) {
        if (std::find(used.begin(), used.end(), name) == used.end()) rest.Set(name, value);
      });
      if (!rest.empty()) {
        body = std::move(rest);
        has_body = true;
      }
    }
  }
  if (!form.empty()) {
    body = Json::String(FormEncode(form));
    has_body = true;
  } else if (has_body && media_type == "application/x-www-form-urlencoded" && body.IsObject()) {
    body = Json::String(FormEncode(body));
  }
  if (has_body && !media_type.empty()) {
    headers.Set("Content-Type",
                Json::String(IsJsonMediaType(media_type) ? "application/json" : media_type));
  }

  Json out = Json::Object();
  std::string method;
  for (char c : op->method)
    method += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out.Set("method", Json::String(method));
  out.Set("endpoint", Json::String(*base + path));
  out.Set("headers", std::move(headers));
  out.Set("query", std::move(query));
  if (has_body) out.Set("body", std::move(body));
  for (const char* passthrough : {"output", "redirect", "authentication"}) {
    if (request.Has(passthrough)) out.Set(passthrough, request.Get(passthrough));
  }
  *http_request = std::move(out);
  return std::nullopt;
}

}  // namespace baton::executors::http
