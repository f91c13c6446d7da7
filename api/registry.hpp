#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "api/error.hpp"
#include "api/operator.hpp"
#include "weir/proto/job_spec.pb.h"

namespace weir {

/// Where an operator sits in a job graph.
enum class operator_kind {
  /// No inputs; emits rows from its poll handler.
  source,
  /// Inputs and outputs.
  transform,
  /// Inputs only; rows it emits go nowhere.
  sink,
};

const char* to_string(operator_kind x);

/// The declared type of a parameter; values are checked against it before
/// an operator is built.
enum class param_type {
  string,
  int64,
  float64,
  boolean,
  /// The name of one field of the operator's input rows.
  field,
  /// A comma-separated list of input field names.
  field_list,
  /// A comma-separated list of new names (e.g. CSV columns of a source).
  name_list,
};

const char* to_string(param_type x);

/// One parameter an operator accepts.
struct param_spec {
  std::string name;
  param_type type = param_type::string;
  bool required = false;
  /// Applied when the parameter is absent and not required; empty means the
  /// parameter stays absent.
  std::string default_value;
  std::string help;
};

/// Computes an operator's output field names from its resolved parameters
/// and its input field names (empty for sources). Returns an error naming
/// the offending parameter or field.
using output_fields_fn = std::function<caf::expected<std::vector<std::string>>(
  const parameters& params, const std::vector<std::string>& input_fields)>;

/// An operator's side outputs (name -> field names) from its resolved
/// parameters and input fields; rows go there with collector::emit_to().
using side_outputs_fn
  = std::function<std::map<std::string, std::vector<std::string>>(
    const parameters& params, const std::vector<std::string>& input_fields)>;

/// For two-input operators: the output field names from the resolved
/// parameters and the field names of the first and second input.
using output_fields2_fn = std::function<caf::expected<std::vector<std::string>>(
  const parameters& params, const std::vector<std::string>& first,
  const std::vector<std::string>& second)>;

/// Builds one operator instance for one subtask.
using operator_factory
  = std::function<operator_behavior(const operator_context& ctx)>;

/// Everything the planner and the tasks need to know about an operator.
struct operator_descriptor {
  std::string name;
  operator_kind kind = operator_kind::transform;
  std::string help;
  std::vector<param_spec> params;
  /// For keyed operators: the parameter (of type field_list) holding the
  /// key fields. With parallelism above 1, the operator's input edge must be
  /// hash-partitioned on exactly these fields. Empty for unkeyed operators.
  std::string key_param;
  /// 1, or 2 for two-input operators (joins): their edges say which input
  /// they feed (Edge.input), the second input's rows reach the handler
  /// tagged second_input_t, and output_fields2 names the output.
  int inputs = 1;
  /// Two-input keyed operators: the parameter holding the second input's
  /// key fields, which pair up with key_param's; the second input's edge
  /// must hash on them.
  std::string second_key_param;
  output_fields_fn output_fields;
  output_fields2_fn output_fields2;
  /// Optional: the side outputs an edge may take instead of the main one.
  side_outputs_fn side_outputs;
  operator_factory factory;
};

/// Maps operator names to descriptors. Built once at start-up (built-ins
/// plus user operators), then read-only and shared by planner and tasks.
class operator_registry {
public:
  /// Adds an operator; an error if the name is taken or the descriptor lacks
  /// a factory or output_fields function.
  caf::error add(operator_descriptor d);

  /// Returns the operator named `name`, or nullptr.
  const operator_descriptor* find(const std::string& name) const;

  /// All registered names, sorted.
  std::vector<std::string> names() const;

  /// Checks `given` against the descriptor's parameters for the vertex
  /// `vertex`: rejects unknown names (suggesting the nearest declared one),
  /// missing required ones, and values of the wrong type; fills defaults.
  /// `input_fields` is used to check field and field_list parameters.
  caf::expected<parameters>
  resolve_params(const operator_descriptor& op, const std::string& vertex,
                 const parameters& given,
                 const std::vector<std::string>& input_fields) const;

private:
  std::map<std::string, operator_descriptor> ops_;
};

/// The registry a job is planned with: the process's own, or that plus the
/// operators of the job's user library (JobSpec.library). Called by the
/// job manager at submission and by each task manager before it deploys
/// the job's first task.
using job_registry_fn
  = std::function<caf::expected<std::shared_ptr<const operator_registry>>(
    const proto::JobSpec&)>;

/// Splits a comma-separated list, trimming blanks; empty items are dropped.
std::vector<std::string> split_list(const std::string& text);

} // namespace weir
