// docs/errors.md must list every user-facing error message of src/**/*.cc, and
// nothing else. A message is identified by its template: the string literals
// of the call's argument joined, with every other part ("where + ", numbers,
// names) written as "…". E.g. Corrupt(origin + ": truncated .npy header") is
// "…: truncated .npy header". The doc lists templates as bullets "- `...`".
//
// On failure the test prints the bullets to add (with the source line) and
// the ones to remove, ready to paste into the right section of the doc.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/testdata.h"

namespace qcal {
namespace {

namespace fs = std::filesystem;

// Functions whose argument is a user-facing message: the Status factories of
// include/qcal/status.h and the Caffe layer converters' helpers.
const char* const kMessageFunctions[] = {"InvalidArgument", "NotFound",   "Unsupported", "Corrupt",
                                         "IoError",         "FailedPrecondition", "OutOfRange",
                                         "Internal",        "Error",      "NotSupported"};

const std::string kEllipsis = "…";

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Index just past the string or char literal starting at s[i] (a quote).
size_t SkipLiteral(const std::string& s, size_t i) {
  char q = s[i++];
  while (i < s.size() && s[i] != q) i += s[i] == '\\' ? 2 : 1;
  return i + 1;
}

// The source with comments blanked out (literals and line numbers kept).
std::string StripComments(const std::string& s) {
  std::string out = s;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '"' || s[i] == '\'') {
      i = SkipLiteral(s, i);
    } else if (s.compare(i, 2, "//") == 0) {
      while (i < s.size() && s[i] != '\n') out[i++] = ' ';
    } else if (s.compare(i, 2, "/*") == 0) {
      size_t end = s.find("*/", i + 2);
      end = end == std::string::npos ? s.size() : end + 2;
      for (; i < end; ++i) {
        if (out[i] != '\n') out[i] = ' ';
      }
    } else {
      ++i;
    }
  }
  return out;
}

std::string Unescape(const std::string& body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 == body.size()) {
      out += body[i];
      continue;
    }
    char c = body[++i];
    if (c != '"' && c != '\\' && c != '\'') out += '\\';  // \n stays "\n": bullets are one line
    out += c;
  }
  return out;
}

// Template of one top-level "+" term: its literal text, or "…" for anything else.
std::string TermTemplate(const std::string& term) {
  std::string text;
  size_t i = term.find_first_not_of(" \t\n");
  if (i == std::string::npos) return "";
  size_t last = term.find_last_not_of(" \t\n");
  const std::string wrapper = "std::string(";  // std::string("literal") counts as the literal
  if (term.compare(i, wrapper.size(), wrapper) == 0 && term[last] == ')') {
    return TermTemplate(term.substr(i + wrapper.size(), last - i - wrapper.size()));
  }
  while (i < term.size()) {
    if (term[i] != '"') return kEllipsis;  // a name, call, number, ternary...
    size_t end = SkipLiteral(term, i);
    text += Unescape(term.substr(i + 1, end - i - 2));
    i = term.find_first_not_of(" \t\n", end);
    if (i == std::string::npos) break;
  }
  return text;
}

// Template of a call's arguments: of the last one, the message.
std::string MessageTemplate(const std::string& args) {
  std::vector<std::string> terms(1);
  int depth = 0;
  for (size_t i = 0; i < args.size();) {
    char c = args[i];
    if (c == '"' || c == '\'') {
      size_t end = SkipLiteral(args, i);
      terms.back() += args.substr(i, end - i);
      i = end;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (depth == 0 && c == ',') {
      terms.assign(1, "");  // the message is the call's last argument
    } else if (depth == 0 && c == '+') {
      terms.emplace_back();
    } else {
      terms.back() += c;
    }
    ++i;
  }
  std::string out;
  for (const auto& t : terms) {
    std::string part = TermTemplate(t);
    if (part == kEllipsis && out.size() >= kEllipsis.size() &&
        out.compare(out.size() - kEllipsis.size(), kEllipsis.size(), kEllipsis) == 0) {
      continue;  // one "…" for consecutive non-literal terms
    }
    out += part;
  }
  return out;
}

bool HasLetter(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::isalpha(c); });
}

struct Site {
  std::string file;
  int line;
};

bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Every message template in the sources, with where it occurs.
std::map<std::string, std::vector<Site>> CodeTemplates(const fs::path& src) {
  std::map<std::string, std::vector<Site>> found;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    if (e.is_regular_file() && e.path().extension() == ".cc") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::string s = StripComments(ReadText(path));
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '"' || s[i] == '\'') {
        i = SkipLiteral(s, i) - 1;
        continue;
      }
      if (i > 0 && IsIdentChar(s[i - 1])) continue;
      for (const char* fn : kMessageFunctions) {
        size_t n = std::char_traits<char>::length(fn);
        if (s.compare(i, n, fn) != 0 || i + n >= s.size() || s[i + n] != '(') continue;
        size_t j = i + n + 1;
        int depth = 1;
        while (j < s.size() && depth > 0) {
          if (s[j] == '"' || s[j] == '\'') {
            j = SkipLiteral(s, j);
            continue;
          }
          depth += s[j] == '(' ? 1 : s[j] == ')' ? -1 : 0;
          ++j;
        }
        std::string t = MessageTemplate(s.substr(i + n + 1, j - i - n - 2));
        if (HasLetter(t)) {
          int line = static_cast<int>(std::count(s.begin(), s.begin() + static_cast<long>(i), '\n')) + 1;
          found[t].push_back({fs::relative(path, src.parent_path()).string(), line});
        }
        break;
      }
    }
  }
  return found;
}

// Bullets "- `template`" (or "- `` template ``" when it holds backticks) of the doc.
std::set<std::string> DocTemplates(const std::string& doc) {
  std::set<std::string> out;
  std::istringstream in(doc);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("- `", 0) != 0) continue;
    size_t open_end = line.find_first_not_of('`', 2);
    if (open_end == std::string::npos) continue;
    std::string fence = line.substr(2, open_end - 2);
    size_t close = line.find(fence, open_end);
    if (close == std::string::npos) continue;
    std::string t = line.substr(open_end, close - open_end);
    if (fence.size() > 1 && t.size() >= 2 && t.front() == ' ' && t.back() == ' ') t = t.substr(1, t.size() - 2);
    out.insert(t);
  }
  return out;
}

std::string Bullet(const std::string& t) {
  return t.find('`') == std::string::npos ? "- `" + t + "`" : "- `` " + t + " ``";
}

TEST(ErrorsDocTest, TemplateExtraction) {
  EXPECT_EQ(MessageTemplate("origin + \": truncated .npy header\""), "…: truncated .npy header");
  EXPECT_EQ(MessageTemplate("\"cannot open '\" + path + \"': \" + std::strerror(errno)"), "cannot open '…': …");
  EXPECT_EQ(MessageTemplate("what + \" '\" + v.name() + \"' is \" \"split\""), "… '…' is split");
  EXPECT_EQ(MessageTemplate("a + (x ? \"s\" : \"\") + \" b(\" + f(\"q\") + \")\""), "… b(…)");
  EXPECT_EQ(MessageTemplate("msg"), "…");
  EXPECT_EQ(MessageTemplate("std::string(\"esc '\\\\\") + e"), "esc '\\…");
  EXPECT_EQ(MessageTemplate("line, col, \"bad '\" + c + \"'\\n\\\"x\\\"\""), "bad '…'\\n\"x\"");
  EXPECT_EQ(DocTemplates("- `a '…' b`\n- `` x `y` z `` note\n* `no`\n"),
            (std::set<std::string>{"a '…' b", "x `y` z"}));
}

TEST(ErrorsDocTest, CatalogueMatchesTheCode) {
  fs::path src = fs::path(QCAL_SOURCE_DIR) / "src";
  fs::path doc_path = fs::path(QCAL_SOURCE_DIR) / "docs" / "errors.md";
  auto code = CodeTemplates(src);
  ASSERT_GT(code.size(), 100u) << "message extraction found too little in " << src;
  std::set<std::string> doc = DocTemplates(ReadText(doc_path));
  std::string missing, stale;
  int n_missing = 0, n_stale = 0;
  for (const auto& [t, sites] : code) {
    if (doc.count(t)) continue;
    ++n_missing;
    missing += Bullet(t) + "    <- " + sites[0].file + ":" + std::to_string(sites[0].line) + "\n";
  }
  for (const auto& t : doc) {
    if (code.count(t)) continue;
    ++n_stale;
    stale += Bullet(t) + "\n";
  }
  EXPECT_EQ(n_missing, 0) << "docs/errors.md lacks " << n_missing
                          << " error message(s). Add each bullet (without the '<- file:line' part) under the "
                             "section it belongs to, and say its cause and fix there if the section does not:\n"
                          << missing;
  EXPECT_EQ(n_stale, 0) << "docs/errors.md lists " << n_stale
                        << " message(s) that no longer occur in src/ (reworded or removed); update or delete:\n"
                        << stale;
}

}  // namespace
}  // namespace qcal
