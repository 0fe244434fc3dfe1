#include "cli/table.h"

#include <algorithm>
#include <utility>

namespace baton::cli {

namespace {

std::string Sanitize(std::string cell) {
  for (char& c : cell) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return cell;
}

void Pad(std::string* line, size_t count) { line->append(count, ' '); }

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) {
    // Count every byte that is not a UTF-8 continuation byte (10xxxxxx).
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), align_(headers_.size(), Align::kLeft) {}

void Table::SetAlign(size_t column, Align align) { align_.at(column) = align; }

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (auto& cell : cells) cell = Sanitize(std::move(cell));
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> widths(headers_.size(), 0);
  for (size_t col = 0; col < headers_.size(); ++col) {
    widths[col] = DisplayWidth(headers_[col]);
    for (const auto& row : rows_) widths[col] = std::max(widths[col], DisplayWidth(row[col]));
  }
  std::string out;
  auto render_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t col = 0; col < cells.size(); ++col) {
      if (col > 0) line += "  ";
      size_t gap = widths[col] - DisplayWidth(cells[col]);
      bool last = col + 1 == cells.size();
      if (align_[col] == Align::kRight) {
        Pad(&line, gap);
        line += cells[col];
      } else {
        line += cells[col];
        if (!last) Pad(&line, gap);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  render_line(headers_);
  for (const auto& row : rows_) render_line(row);
  return out;
}

}  // namespace baton::cli
