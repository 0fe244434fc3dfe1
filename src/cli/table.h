// Table: the aligned text tables of the client verbs (`baton ls`, `history`, `definitions`).
//
//   ID        WORKFLOW               STATUS     ELAPSED
//   01HX...   examples/hello:1.0.0   completed      12ms
//
// Columns are separated by two spaces and padded to their widest cell, counted in Unicode
// code points (so UTF-8 names line up). Control characters in cells (a newline in an error
// title) are shown as spaces, so every row stays one line. The last column is not padded
// when left-aligned, so lines carry no trailing blanks.
//
// A plain value: not thread-safe to mutate concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace baton::cli {

class Table {
 public:
  enum class Align { kLeft, kRight };

  // One header per column; every column is left-aligned until SetAlign says otherwise.
  explicit Table(std::vector<std::string> headers);

  // REQUIRES: column < number of headers.
  void SetAlign(size_t column, Align align);
  // Missing cells are empty; cells beyond the header count are dropped.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }

  // The header line and one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
};

// Number of Unicode code points in UTF-8 text (the display width the table assumes).
size_t DisplayWidth(std::string_view text);

}  // namespace baton::cli
