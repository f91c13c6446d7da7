#include "api/error.hpp"

#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/to_string.hpp>

namespace weir {

caf::error make_weir_error(uint8_t code, caf::atom_value category,
                           std::string text) {
  return caf::error{code, category, caf::make_message(std::move(text))};
}

caf::error make_error(api_errc code, std::string text) {
  return make_weir_error(static_cast<uint8_t>(code), caf::atom("weir_api"),
                         std::move(text));
}

std::string error_text(const caf::error& err) {
  if (!err)
    return "no error";
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return caf::to_string(err);
}

} // namespace weir
