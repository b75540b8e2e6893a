#include "base/text_format.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

namespace qcal::pbtext {

Status Lexer::Error(int line, int col, const std::string& msg) const {
  return Corrupt(std::string(source_) + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + msg);
}

Result<Token> Lexer::Next() {
  SkipSpaceAndComments();
  Token t;
  t.line = line_;
  t.col = col_;
  if (pos_ >= s_.size()) return t;
  char c = s_[pos_];
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
    t.kind = Tok::kIdent;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      t.text += Get();
    return t;
  }
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
    t.kind = Tok::kNumber;
    t.text += Get();
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
            ((s_[pos_] == '-' || s_[pos_] == '+') && (t.text.back() == 'e' || t.text.back() == 'E')))) {
      t.text += Get();
    }
    return t;
  }
  if (c == '"' || c == '\'') return ReadString(t);
  if (std::string_view("{}[]:,;<>").find(c) != std::string_view::npos) {
    t.kind = Tok::kPunct;
    t.text = std::string(1, Get());
    return t;
  }
  return Error(line_, col_, std::string("unexpected character '") + c + "'");
}

char Lexer::Get() {
  char c = s_[pos_++];
  if (c == '\n') {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
  return c;
}

void Lexer::SkipSpaceAndComments() {
  while (pos_ < s_.size()) {
    char c = s_[pos_];
    if (c == '#') {
      while (pos_ < s_.size() && s_[pos_] != '\n') Get();
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      Get();
    } else {
      return;
    }
  }
}

Result<Token> Lexer::ReadString(Token t) {
  t.kind = Tok::kString;
  const char quote = Get();
  while (true) {
    if (pos_ >= s_.size() || s_[pos_] == '\n') return Error(t.line, t.col, "unterminated string");
    char c = Get();
    if (c == quote) break;
    if (c != '\\') {
      t.text += c;
      continue;
    }
    if (pos_ >= s_.size()) return Error(t.line, t.col, "unterminated string");
    const int esc_line = line_, esc_col = col_ - 1;
    char e = Get();
    static const std::map<char, char> kSimple = {{'n', '\n'}, {'t', '\t'},  {'r', '\r'}, {'\\', '\\'},
                                                 {'"', '"'},  {'\'', '\''}, {'a', '\a'}, {'b', '\b'},
                                                 {'f', '\f'}, {'v', '\v'},  {'?', '?'}};
    if (auto it = kSimple.find(e); it != kSimple.end()) {
      t.text += it->second;
    } else if (e >= '0' && e <= '7') {
      int v = e - '0';
      for (int i = 0; i < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++i)
        v = v * 8 + (Get() - '0');
      if (v > 255) return Error(esc_line, esc_col, "octal escape out of range");
      t.text += static_cast<char>(v);
    } else if (e == 'x' && pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_]))) {
      int v = 0;
      for (int i = 0; i < 2 && pos_ < s_.size() && std::isxdigit(static_cast<unsigned char>(s_[pos_])); ++i) {
        v = v * 16 + std::stoi(std::string(1, Get()), nullptr, 16);
      }
      t.text += static_cast<char>(v);
    } else {
      return Error(esc_line, esc_col, std::string("unknown escape '\\") + e + "' in string");
    }
  }
  return t;
}

// ------------------------------------------------------------ scalar decoding

namespace {

template <typename T>
Result<T> ToReal(const Token& t, const Lexer& lx, const char* type_name) {
  std::string s = t.text;
  if (t.kind == Tok::kIdent || t.kind == Tok::kNumber) {
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool neg = !lower.empty() && lower[0] == '-';
    std::string body = neg || (!lower.empty() && lower[0] == '+') ? lower.substr(1) : lower;
    if (body == "inf" || body == "infinity") return neg ? -std::numeric_limits<T>::infinity()
                                                        : std::numeric_limits<T>::infinity();
    if (body == "nan") return std::numeric_limits<T>::quiet_NaN();
  }
  if (t.kind != Tok::kNumber) return lx.Error(t, "expected a number, got '" + s + "'");
  if (!s.empty() && (s.back() == 'f' || s.back() == 'F') && s.find_first_of("xX") == std::string::npos)
    s.pop_back();
  size_t start = s[0] == '+' ? 1 : 0;
  T v = 0;
  auto r = std::from_chars(s.data() + start, s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range)
    return lx.Error(t, "number '" + t.text + "' is out of " + type_name + " range");
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    return lx.Error(t, "'" + t.text + "' is not a valid number");
  }
  return v;
}

}  // namespace

Result<float> ToFloat(const Token& t, const Lexer& lx) { return ToReal<float>(t, lx, "float"); }
Result<double> ToDouble(const Token& t, const Lexer& lx) { return ToReal<double>(t, lx, "double"); }

Result<int64_t> ToInt(const Token& t, const Lexer& lx, int64_t lo, int64_t hi) {
  if (t.kind != Tok::kNumber) return lx.Error(t, "expected an integer, got '" + t.text + "'");
  std::string s = t.text;
  bool neg = s[0] == '-';
  if (neg || s[0] == '+') s = s.substr(1);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s = s.substr(2);
  }
  uint64_t mag = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), mag, base);
  if (s.empty() || r.ec == std::errc::invalid_argument || r.ptr != s.data() + s.size()) {
    return lx.Error(t, "'" + t.text + "' is not a valid integer");
  }
  if (r.ec == std::errc::result_out_of_range || mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return lx.Error(t, "integer '" + t.text + "' is out of range");
  }
  int64_t v = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  if (v < lo || v > hi) {
    return lx.Error(t, "integer " + t.text + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                           "]");
  }
  return v;
}

Result<bool> ToBool(const Token& t, const Lexer& lx) {
  static const std::map<std::string, bool> kValues = {{"true", true},   {"True", true},   {"t", true},
                                                      {"1", true},      {"false", false}, {"False", false},
                                                      {"f", false},     {"0", false}};
  auto it = kValues.find(t.text);
  if (t.kind == Tok::kString || it == kValues.end())
    return lx.Error(t, "expected true or false, got '" + t.text + "'");
  return it->second;
}

Result<std::string> ToString(const Token& t, const Lexer& lx) {
  if (t.kind != Tok::kString) return lx.Error(t, "expected a quoted string, got '" + t.text + "'");
  return t.text;
}

Result<std::string> ToEnum(const Token& t, const Lexer& lx) {
  if (t.kind != Tok::kIdent) return lx.Error(t, "expected an enum name, got '" + t.text + "'");
  return t.text;
}

// --------------------------------------------------------------------- parser

Status Parser::Advance() {
  QCAL_ASSIGN_OR_RETURN(tok_, lx_.Next());
  return Status::Ok();
}

Status Parser::Expect(const char* punct, const std::string& what) {
  if (!Is(punct)) return Error(tok_, "expected '" + std::string(punct) + "' " + what + ", got " + Describe(tok_));
  return Advance();
}

std::string Parser::Describe(const Token& t) { return t.kind == Tok::kEnd ? "end of file" : "'" + t.text + "'"; }

Result<std::string> Parser::OpenMessage(const std::string& name) {
  if (Is(":")) QCAL_RETURN_IF_ERROR(Advance());
  if (Is("{") || Is("<")) {
    std::string close = Is("{") ? "}" : ">";
    QCAL_RETURN_IF_ERROR(Advance());
    return close;
  }
  return Error(tok_, "expected '{' after '" + name + "', got " + Describe(tok_));
}

Status Parser::ParseFields(const std::string& close, const std::function<Status(const Token& name)>& field) {
  while (close.empty() ? !AtEnd() : !Is(close.c_str())) {
    if (tok_.kind != Tok::kIdent) return Error(tok_, "expected a field name, got " + Describe(tok_));
    Token name = tok_;
    QCAL_RETURN_IF_ERROR(Advance());
    QCAL_RETURN_IF_ERROR(field(name));
    QCAL_RETURN_IF_ERROR(SkipSeparator());
  }
  return close.empty() ? Status::Ok() : Advance();
}

Status Parser::ParseScalars(const Token& name, bool repeated, const std::function<Status(const Token&)>& each) {
  QCAL_RETURN_IF_ERROR(Expect(":", "after '" + name.text + "'"));
  if (repeated && Is("[")) {
    QCAL_RETURN_IF_ERROR(Advance());
    while (!Is("]")) {
      if (AtEnd()) return Error(tok_, "unexpected end of file in list");
      QCAL_RETURN_IF_ERROR(each(tok_));
      QCAL_RETURN_IF_ERROR(Advance());
      if (Is(",")) {
        QCAL_RETURN_IF_ERROR(Advance());
      } else if (!Is("]")) {
        return Error(tok_, "expected ',' or ']' in list, got " + Describe(tok_));
      }
    }
  } else {
    if (AtEnd()) return Error(tok_, "unexpected end of file");
    QCAL_RETURN_IF_ERROR(each(tok_));
  }
  return Advance();
}

}  // namespace qcal::pbtext
