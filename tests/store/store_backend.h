// StoreBackend: what the store conformance suite (store_conformance_test.cc) needs from one
// Store implementation: fresh storage per test, and opening a store on it, again and again
// (a reopen must see everything committed before). Each implementation adds one backend
// and one INSTANTIATE_TEST_SUITE_P line; the tests themselves see only store::Store.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/store.h"

namespace baton::store::testing {

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Opens a store on this test's storage (empty at the first call). Only one store is open
  // at a time: the suite destroys the previous one before opening again.
  virtual Result<std::unique_ptr<Store>> Open() = 0;
};

struct BackendFactory {
  std::string name;  // a test-name suffix: letters and digits only
  std::function<std::unique_ptr<StoreBackend>()> make;
};

// For gtest's messages.
inline void PrintTo(const BackendFactory& factory, std::ostream* os) { *os << factory.name; }

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// SQLite: a database file in a TempDir.
BackendFactory SqliteBackendFactory();

}  // namespace baton::store::testing
