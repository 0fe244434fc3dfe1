// libFuzzer target: any bytes must either parse or fail with a Status, and every document
// that parses must validate (plain and strict) without crashing, hanging or leaking.
//
// Build and run: tests/fuzz/run_fuzz.sh (ctest -R fuzz_document), or configure with clang and
// -DBATON_FUZZ=ON and build the `document_fuzz` target.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "model/document.h"

namespace {

void Check(const baton::Result<baton::model::Document>& doc) {
  if (!doc.ok()) {
    // Syntax errors are always "FILE:LINE:COL: error: ...".
    if (doc.status().message().find(": error: ") == std::string::npos) std::abort();
    return;
  }
  for (bool strict : {false, true}) {
    for (const baton::model::Diagnostic& d :
         baton::model::Validate(*doc, baton::model::ValidateOptions{strict})) {
      if (d.ToString().empty()) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A lower node cap than the default keeps one input under libFuzzer's -timeout even when
  // it expands to the cap: the limit logic is exercised all the same.
  baton::model::ParseLimits limits;
  limits.max_nodes = 100'000;
  Check(baton::model::ParseDocument(text, "fuzz.yaml", limits));
  // The same bytes as a *.json file take the strict JSON reader only.
  Check(baton::model::ParseDocument(text, "fuzz.json", limits));
  return 0;
}
