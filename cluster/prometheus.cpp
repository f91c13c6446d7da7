#include "cluster/prometheus.hpp"

#include <charconv>
#include <cmath>

namespace weir {

void prometheus_text::family(const std::string& name, const char* type,
                             const std::string& help) {
  if (families_.count(name) != 0)
    return;
  order_.push_back(name);
  families_[name] = family_data{type, help, {}};
}

void prometheus_text::sample(const std::string& name, const labels& ls,
                             double value) {
  auto i = families_.find(name);
  if (i == families_.end())
    return;
  std::string line = name;
  if (!ls.empty()) {
    line += '{';
    for (size_t k = 0; k < ls.size(); ++k) {
      if (k > 0)
        line += ',';
      line += ls[k].first + "=\"" + escape(ls[k].second) + '"';
    }
    line += '}';
  }
  line += ' ';
  if (std::isnan(value)) {
    line += "NaN";
  } else if (std::isinf(value)) {
    line += value > 0 ? "+Inf" : "-Inf";
  } else {
    // The shortest text that reads back as the same double: a watermark
    // in seconds keeps its milliseconds, a counter every digit.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), value);
    line.append(buf, res.ptr);
  }
  i->second.samples.push_back(std::move(line));
}

std::string prometheus_text::str() const {
  std::string out;
  for (const auto& name : order_) {
    const auto& f = families_.at(name);
    if (f.samples.empty())
      continue;
    // HELP escapes backslashes and newlines, not quotes.
    std::string help;
    for (char c : f.help)
      help += c == '\\'   ? std::string{"\\\\"}
              : c == '\n' ? std::string{"\\n"}
                          : std::string(1, c);
    out += "# HELP " + name + ' ' + help + '\n';
    out += "# TYPE " + name + ' ' + f.type + '\n';
    for (const auto& s : f.samples)
      out += s + '\n';
  }
  return out;
}

std::string prometheus_text::escape(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

} // namespace weir
