// Tokenizer and recursive-descent helpers for the protobuf text-format subset
// qcal reads without protobuf: the record file (quant/record) and AMCT's
// simplified calibration config (quant/config/simple_cfg).
//
// Accepted: `#` comments to end of line; free whitespace; identifiers; numbers
// (decimal, exponent, 0x hex, optional f suffix); strings in " or ' with C
// escapes; punctuation { } [ ] : , ; < >. Messages are `name { ... }`,
// `name: { ... }` or `name < ... >`; fields may be separated by ',' or ';'.
// Errors are Corrupt "<source>:<line>:<column>: message".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "qcal/status.h"

namespace qcal::pbtext {

enum class Tok { kEnd, kIdent, kNumber, kString, kPunct };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier / number text / decoded string / punctuation char
  int line = 1, col = 1;
};

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view source) : s_(text), source_(source) {}

  // Corrupt "<source>:<line>:<col>: <msg>".
  Status Error(int line, int col, const std::string& msg) const;
  Status Error(const Token& t, const std::string& msg) const { return Error(t.line, t.col, msg); }
  std::string_view source() const { return source_; }
  std::string_view text() const { return s_; }
  Result<Token> Next();

 private:
  char Get();
  void SkipSpaceAndComments();
  Result<Token> ReadString(Token t);

  std::string_view s_, source_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

// Scalar decoding; errors point at the token.
Result<float> ToFloat(const Token& t, const Lexer& lx);    // also inf, -inf, nan
Result<double> ToDouble(const Token& t, const Lexer& lx);  // also inf, -inf, nan
Result<int64_t> ToInt(const Token& t, const Lexer& lx, int64_t lo, int64_t hi);  // decimal or 0x hex
Result<bool> ToBool(const Token& t, const Lexer& lx);      // true/false/True/False/t/f/1/0
Result<std::string> ToString(const Token& t, const Lexer& lx);  // a quoted string
Result<std::string> ToEnum(const Token& t, const Lexer& lx);    // a bare identifier

// Cursor over the token stream with the grammar steps both readers share.
class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : lx_(text, source) {}

  const Lexer& lexer() const { return lx_; }
  const Token& tok() const { return tok_; }
  Status Error(const Token& t, const std::string& msg) const { return lx_.Error(t, msg); }

  Status Advance();  // reads the next token (call once to start)
  bool Is(const char* punct) const { return tok_.kind == Tok::kPunct && tok_.text == punct; }
  bool AtEnd() const { return tok_.kind == Tok::kEnd; }
  Status Expect(const char* punct, const std::string& what);
  Status SkipSeparator() { return Is(",") || Is(";") ? Advance() : Status::Ok(); }
  // "end of file" or the token text in quotes.
  static std::string Describe(const Token& t);

  // Message start after its field name: optional ':' then '{' or '<'; returns the closing delimiter.
  Result<std::string> OpenMessage(const std::string& name);

  // The fields of a message up to `close` (consumed): each field name token is
  // passed to `field`, which must consume the field's value.
  Status ParseFields(const std::string& close, const std::function<Status(const Token& name)>& field);

  // After a scalar field's name: ':' then one value, or (when `repeated`) a
  // `[a, b]` list; `each` receives every value token.
  Status ParseScalars(const Token& name, bool repeated, const std::function<Status(const Token& value)>& each);

 private:
  Lexer lx_;
  Token tok_;
};

}  // namespace qcal::pbtext
