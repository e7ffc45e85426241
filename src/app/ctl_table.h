#pragma once

#include <string>
#include <vector>

namespace rmqc::app::ctl {

// An aligned text table: a header row, then rows; columns separated by two spaces, the last
// column not padded (no trailing blanks). Widths count UTF-8 code points.
class Table {
 public:
  explicit Table(std::vector<std::string> header);

  // A row with fewer cells than the header is padded with empty cells; extra cells are kept.
  void add_row(std::vector<std::string> row);
  std::size_t rows() const { return rows_.size() - 1; }

  // The table, each line ending in '\n'; `indent` spaces before every line.
  std::string render(std::size_t indent = 0) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

// Number of UTF-8 code points of `text` (continuation bytes not counted).
std::size_t display_width(const std::string& text);

}  // namespace rmqc::app::ctl
