// A shared library of user operators, loaded by `weir` (the embedded mini
// cluster, the JobManager and every TaskManager) for jobs that name it:
//
//   library: "/path/to/libweir_example_operators.so"
//
// On a cluster, `weir run -m HOST:PORT` uploads the file with the job; the
// JobManager keeps it by content hash and each TaskManager fetches it before
// it deploys a task of the job. examples/library/bucket_count.pbtxt uses it.

#include <string>
#include <vector>

#include "api/library.hpp"
#include "api/operator.hpp"
#include "api/registry.hpp"

namespace {

/// `bucket`: adds field `as` = `field` modulo `buckets` to each row, e.g.
/// to spread a sequence over a fixed number of keys.
weir::operator_descriptor bucket_operator() {
  weir::operator_descriptor d;
  d.name = "bucket";
  d.kind = weir::operator_kind::transform;
  d.help = "adds the field 'as' = 'field' modulo 'buckets' (an int64 field)";
  d.params = {
    {"field", weir::param_type::field, true, "", "an int64 field"},
    {"buckets", weir::param_type::int64, true, "", "the modulus, at least 1"},
    {"as", weir::param_type::string, false, "bucket", "the new field's name"},
  };
  d.output_fields
    = [](const weir::parameters& params, const std::vector<std::string>& in)
    -> caf::expected<std::vector<std::string>> {
    auto out = in;
    auto i = params.find("as");
    out.push_back(i == params.end() ? "bucket" : i->second);
    return out;
  };
  d.factory = [](const weir::operator_context& ctx) {
    auto index = ctx.input_index(ctx.get_string("field"));
    auto buckets = ctx.get_int("buckets");
    if (buckets < 1)
      buckets = 1;
    return weir::operator_behavior{
      [index, buckets](const weir::row& r, weir::collector& out) {
        auto copy = r;
        auto v = r[index].as_int64();
        copy.emplace_back(((v % buckets) + buckets) % buckets);
        out.emit(std::move(copy));
      },
    };
  };
  return d;
}

caf::error register_example_operators(weir::operator_registry& registry) {
  return registry.add(bucket_operator());
}

} // namespace

WEIR_OPERATOR_LIBRARY(register_example_operators)
