#pragma once

#include <string>

namespace weir {

/// The web dashboard: one self-contained HTML page (web/dashboard.html,
/// built into the binary), served by the REST API at "/".
const std::string& dashboard_html();

} // namespace weir
