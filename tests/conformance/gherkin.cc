#include "conformance/gherkin.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace baton::conformance {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (IsBlank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (IsBlank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits on '\n' and drops a '\r' before it. A missing final newline yields the same lines
// as a present one.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// If `line` (trimmed) starts with `keyword` followed by ':', returns the trimmed rest.
std::optional<std::string_view> AfterColonKeyword(std::string_view line, std::string_view keyword) {
  if (line.size() <= keyword.size() || line.substr(0, keyword.size()) != keyword ||
      line[keyword.size()] != ':') {
    return std::nullopt;
  }
  return Trim(line.substr(keyword.size() + 1));
}

// If `line` (trimmed) is a step, returns {keyword, text}.
std::optional<std::pair<std::string_view, std::string_view>> SplitStep(std::string_view line) {
  static constexpr std::string_view kKeywords[] = {"Given", "When", "Then", "And", "But", "*"};
  for (std::string_view keyword : kKeywords) {
    if (line.size() > keyword.size() && line.substr(0, keyword.size()) == keyword &&
        IsBlank(line[keyword.size()])) {
      return std::make_pair(keyword, Trim(line.substr(keyword.size())));
    }
  }
  return std::nullopt;
}

class Parser {
 public:
  Parser(std::string_view text, std::string file) : lines_(SplitLines(text)) {
    feature_.file = std::move(file);
  }

  Result<Feature> Parse() {
    for (index_ = 0; index_ < lines_.size(); ++index_) {
      Status status = ParseLine();
      if (!status.ok()) return status;
    }
    if (!pending_tags_.empty()) {
      return Status::InvalidArgument(feature_.file + ": tags at the end of the file");
    }
    if (!seen_feature_) return Status::InvalidArgument(feature_.file + ": no `Feature:` line");
    FinishScenario();
    return std::move(feature_);
  }

 private:
  enum class Section { kNone, kFeature, kBackground, kScenario };

  int LineNumber() const { return static_cast<int>(index_) + 1; }

  Status Error(std::string_view message) const {
    return Status::InvalidArgument(feature_.file + ":" + std::to_string(LineNumber()) + ": " +
                                   std::string(message));
  }

  Status ParseLine() {
    std::string_view raw = lines_[index_];
    if (index_ == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);  // UTF-8 BOM
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') return Status::Ok();
    if (line.substr(0, 3) == "\"\"\"" || line.substr(0, 3) == "```") return ParseDocString(raw);
    if (line.front() == '@') {
      std::istringstream words{std::string(line)};
      std::string tag;
      while (words >> tag) {
        if (tag.front() == '#') break;  // a comment after the tags
        if (tag.front() != '@') return Error("expected only @tags on a tag line");
        pending_tags_.push_back(tag);
      }
      return Status::Ok();
    }
    if (line.front() == '|') return Error("data tables are not supported");
    if (auto rest = AfterColonKeyword(line, "Feature")) {
      if (seen_feature_) return Error("a second `Feature:` in one file");
      seen_feature_ = true;
      EnterSection(Section::kFeature);
      feature_.name = std::string(*rest);
      feature_.line = LineNumber();
      feature_.tags = std::exchange(pending_tags_, {});
      return Status::Ok();
    }
    for (std::string_view unsupported :
         {"Scenario Outline", "Scenario Template", "Examples", "Scenarios", "Rule"}) {
      if (AfterColonKeyword(line, unsupported)) {
        return Error("`" + std::string(unsupported) + ":` is not supported by this reader");
      }
    }
    if (auto rest = AfterColonKeyword(line, "Background")) {
      if (!seen_feature_) return Error("`Background:` before `Feature:`");
      if (section_ != Section::kFeature || !feature_.scenarios.empty() || current_) {
        return Error("`Background:` must come before the first scenario");
      }
      if (!pending_tags_.empty()) return Error("tags on a `Background:`");
      EnterSection(Section::kBackground);
      return Status::Ok();
    }
    std::optional<std::string_view> scenario_name = AfterColonKeyword(line, "Scenario");
    if (!scenario_name) scenario_name = AfterColonKeyword(line, "Example");
    if (scenario_name) {
      if (!seen_feature_) return Error("`Scenario:` before `Feature:`");
      FinishScenario();
      current_.emplace();
      current_->name = std::string(*scenario_name);
      current_->line = LineNumber();
      current_->tags = std::exchange(pending_tags_, {});
      current_->steps = background_;
      EnterSection(Section::kScenario);
      return Status::Ok();
    }
    if (!pending_tags_.empty()) return Error("tags must be followed by `Feature:` or `Scenario:`");
    if (auto step = SplitStep(line)) {
      if (section_ != Section::kScenario && section_ != Section::kBackground) {
        return Error("a step outside a scenario");
      }
      StepList().push_back(
          Step{std::string(step->first), std::string(step->second), LineNumber(), std::nullopt});
      ++steps_in_section_;
      last_line_was_step_ = true;
      return Status::Ok();
    }
    // Free text: the description of a feature, background or scenario, but only before
    // their first step (after a step it is most likely a misspelt keyword).
    if (section_ == Section::kNone) return Error("text before `Feature:`");
    if (section_ == Section::kFeature) {
      if (!feature_.description.empty()) feature_.description += '\n';
      feature_.description += std::string(line);
      return Status::Ok();
    }
    if (steps_in_section_ > 0) {
      return Error(
          "expected a step (Given/When/Then/And/But), a doc string or a new scenario, "
          "got: " +
          std::string(line));
    }
    return Status::Ok();
  }

  // Reads a doc string whose opening delimiter is on the current line; leaves index_ on the
  // closing delimiter.
  Status ParseDocString(std::string_view raw) {
    const int open_line = LineNumber();
    if (section_ != Section::kScenario && section_ != Section::kBackground) {
      return Error("a doc string outside a scenario");
    }
    if (!last_line_was_step_) {
      return Error("a doc string must directly follow its step");
    }
    const size_t indent = raw.find_first_not_of(" \t");
    const std::string_view delimiter = raw.substr(indent, 3);
    DocString doc;
    doc.line = open_line;
    doc.media_type = std::string(Trim(raw.substr(indent + 3)));
    if (doc.media_type.find(delimiter) != std::string::npos) {
      return Error("a doc string must open and close on separate lines");
    }
    std::string content;
    bool first = true;
    for (++index_; index_ < lines_.size(); ++index_) {
      std::string_view line = lines_[index_];
      if (Trim(line) == delimiter) {
        doc.content = std::move(content);
        StepList().back().doc_string = std::move(doc);
        last_line_was_step_ = false;
        return Status::Ok();
      }
      size_t strip = 0;
      while (strip < indent && strip < line.size() && IsBlank(line[strip])) ++strip;
      line.remove_prefix(strip);
      if (!first) content += '\n';
      first = false;
      content += Unescape(line, delimiter);
    }
    index_ = static_cast<size_t>(open_line - 1);
    return Error("unterminated doc string (no closing " + std::string(delimiter) + ")");
  }

  // Gherkin lets a doc string contain its own delimiter as \"\"\" (or \`\`\`).
  static std::string Unescape(std::string_view line, std::string_view delimiter) {
    const std::string escaped =
        std::string("\\") + delimiter[0] + "\\" + delimiter[1] + "\\" + delimiter[2];
    std::string out(line);
    for (size_t at = out.find(escaped); at != std::string::npos; at = out.find(escaped, at + 3)) {
      out.replace(at, escaped.size(), delimiter);
    }
    return out;
  }

  // REQUIRES: section_ is kBackground or kScenario.
  std::vector<Step>& StepList() {
    return section_ == Section::kBackground ? background_ : current_->steps;
  }

  void EnterSection(Section section) {
    section_ = section;
    steps_in_section_ = 0;
    last_line_was_step_ = false;
  }

  void FinishScenario() {
    if (current_) feature_.scenarios.push_back(std::move(*current_));
    current_.reset();
  }

  std::vector<std::string_view> lines_;
  size_t index_ = 0;
  Feature feature_;
  bool seen_feature_ = false;
  Section section_ = Section::kNone;
  std::vector<Step> background_;
  std::optional<Scenario> current_;
  std::vector<std::string> pending_tags_;
  size_t steps_in_section_ = 0;
  // True while the last non-blank, non-comment line was a step, i.e. a doc string may follow.
  bool last_line_was_step_ = false;
};

}  // namespace

Result<Feature> ParseFeature(std::string_view text, std::string file) {
  return Parser(text, std::move(file)).Parse();
}

Result<Feature> LoadFeatureFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::NotFound("cannot read " + path);
  return ParseFeature(text.str(), path);
}

Result<std::vector<std::string>> ListFeatureFiles(const std::string& dir) {
  std::error_code error;
  std::filesystem::directory_iterator it(dir, error);
  if (error) return Status::NotFound("cannot list " + dir + ": " + error.message());
  std::vector<std::string> files;
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return Status::NotFound("cannot list " + dir + ": " + error.message());
    const std::filesystem::path& path = it->path();
    if (path.extension() == ".feature" && it->is_regular_file(error)) files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace baton::conformance
