#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/value.hpp"

/// Text-to-value parsing shared by file_source (CSV columns) and filter
/// (its comparison value).
namespace weir::builtins {

/// Maps a type name of the `types` parameter (int64, double, string, bool,
/// timestamp) to its value_type; nullopt for anything else.
std::optional<value_type> parse_type_name(std::string_view name);

/// The names parse_type_name accepts, for error messages.
const std::vector<std::string>& type_names();

/// Parses `text` as a value of type `t`; nullopt when it does not parse.
///   int64      decimal integer, optional leading '-' or '+'
///   double     decimal or scientific notation, inf, nan
///   bool       true/false, yes/no, 1/0 (any case)
///   timestamp  integer milliseconds since the epoch, or ISO-8601
///              `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM]`
///              (without an offset: UTC)
///   string     the text itself
/// Leading and trailing blanks are ignored for every type but string.
std::optional<value> parse_value(std::string_view text, value_type t);

/// Splits one CSV record (RFC 4180: fields separated by commas, optionally
/// enclosed in double quotes, a doubled quote standing for one quote) into
/// `fields`, replacing its contents. A quoted field cannot span lines.
/// Returns an empty string on success, else a message naming the 1-based
/// column where parsing failed.
std::string split_csv_record(std::string_view line,
                             std::vector<std::string>& fields);

} // namespace weir::builtins
