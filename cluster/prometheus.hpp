#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace weir {

/// Builds a page in Prometheus' text exposition format (0.0.4): metric
/// families with their HELP and TYPE lines, each family's samples together,
/// label values escaped. Families appear in the order first declared. A
/// plain class: the REST API fills one per scrape.
class prometheus_text {
public:
  using labels = std::vector<std::pair<std::string, std::string>>;

  /// Declares family `name` ("counter" or "gauge"); declaring it again
  /// does nothing.
  void family(const std::string& name, const char* type,
              const std::string& help);

  /// Adds a sample of declared family `name`.
  void sample(const std::string& name, const labels& ls, double value);

  /// The page; families without samples are left out.
  std::string str() const;

  /// Escapes a label value (backslash, double quote, newline).
  static std::string escape(const std::string& value);

private:
  struct family_data {
    std::string type;
    std::string help;
    std::vector<std::string> samples;
  };

  std::vector<std::string> order_;
  std::map<std::string, family_data> families_;
};

} // namespace weir
