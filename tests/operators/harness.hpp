#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/operator.hpp"
#include "api/registry.hpp"
#include "api/state.hpp"

/// Drives built-in operators the way a task does, without any actors.
namespace weir::test {

/// A collector that keeps every row it receives.
class vector_collector : public collector {
public:
  void emit(row r) override {
    rows.push_back(std::move(r));
  }

  std::vector<row> rows;
};

/// A steady clock that only moves when the test says so.
class fake_clock {
public:
  using time_point = std::chrono::steady_clock::time_point;

  void advance(std::chrono::nanoseconds d) {
    *now_ += d;
  }

  time_point now() const {
    return *now_;
  }

  /// A clock function for operator_context::now that follows this clock.
  std::function<time_point()> fn() const {
    auto t = now_;
    return [t] { return *t; };
  }

private:
  std::shared_ptr<time_point> now_ = std::make_shared<time_point>();
};

/// The registry holding the built-in operators, built once.
const operator_registry& builtin_registry();

/// One operator instance and the context it was built from.
/// Keyed operators (aggregate) get keyed state over every key group, and
/// `behavior` makes each record's key current before the operator's own
/// record handler runs, as a task does.
struct op_under_test {
  operator_context ctx;
  /// The keyed state of keyed operators; null for the others.
  std::shared_ptr<keyed_state_backend> keyed;
  operator_behavior behavior;
};

/// Resolves `params` against `input_fields`, computes the output fields and
/// calls the factory for subtask `subtask` of `parallelism`; a validation
/// error fails the test.
/// With `restored`, the instance starts as one whose job restores from a
/// checkpoint (operator_context::restored).
op_under_test make_op(const std::string& name, const parameters& params,
                      const std::vector<std::string>& input_fields = {},
                      int subtask = 0, int parallelism = 1,
                      const fake_clock* clock = nullptr, bool restored = false);

/// The text of the first error that resolve_params or output_fields reports
/// for these parameters; empty when both accept them.
std::string validation_error(const std::string& name, const parameters& params,
                             const std::vector<std::string>& input_fields = {});

/// Polls a source until it reports finished (a wait fails the test).
std::vector<row> drain(const operator_behavior& source, size_t budget = 7);

/// Feeds `rows` to a transform or sink, then ends its input.
std::vector<row> run(const operator_behavior& op, const std::vector<row>& rows);

/// A fresh directory under /tmp, removed with its contents on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }

  /// Writes `content` to the file `name` in this directory; returns its path.
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::string path_;
};

/// Reads a whole file; fails the test when it cannot.
std::string read_file(const std::string& path);

/// The names of the entries of directory `path`, sorted.
std::vector<std::string> list_dir(const std::string& path);

/// Splits `text` into lines as file_source should: on '\n', dropping one
/// trailing '\r' per line and the empty piece after a final '\n'.
std::vector<std::string> expected_lines(const std::string& text);

} // namespace weir::test
