#include "store_backend.h"

#include <filesystem>
#include <system_error>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "store/sqlite/sqlite_store.h"

namespace baton::store::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "baton-store-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << pattern;
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

class SqliteBackend final : public StoreBackend {
 public:
  Result<std::unique_ptr<Store>> Open() override {
    return OpenSqliteStore({.path = dir_.path() + "/baton.db", .exclusive = true});
  }

 private:
  TempDir dir_;
};

}  // namespace

BackendFactory SqliteBackendFactory() {
  return {"Sqlite", [] { return std::make_unique<SqliteBackend>(); }};
}

}  // namespace baton::store::testing
