#include "scheduler/job_loader.hpp"

#include <filesystem>
#include <cstdio>
#include <unistd.h>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

using namespace weir;

namespace {

/// The error text of a failed result, or "<no error>".
template <class T>
std::string error_of(const caf::expected<T>& x) {
  return x ? std::string{"<no error>"} : error_text(x.error());
}

const char* job_text = R"(name: "${job:-wordcount}"
vertices {
  id: "lines"
  operator: "read"
  params { key: "path" value: "${input}" }
  parallelism: ${parallelism:-2}
}
)";

/// A temporary file that lives as long as the object.
class temp_file {
public:
  explicit temp_file(const std::string& contents)
    : path_("/tmp/weir_job_loader_test_" + std::to_string(::getpid()) + "_"
            + std::to_string(counter_++) + ".pbtxt") {
    std::ofstream{path_} << contents;
  }

  ~temp_file() {
    std::remove(path_.c_str());
  }

  const std::string& path() const {
    return path_;
  }

private:
  static inline int counter_ = 0;
  std::string path_;
};

} // namespace

TEST_CASE("placeholders are replaced by params and fallbacks") {
  auto text = substitute_placeholders("a ${x} b ${y:-fb} c ${z:-}",
                                      {{"x", "1"}}, "job.pbtxt");
  REQUIRE(text);
  CHECK_EQ(*text, "a 1 b fb c ");
}

TEST_CASE("a param wins over the fallback of its placeholder") {
  auto text = substitute_placeholders("p: ${p:-2}", {{"p", "8"}}, "job.pbtxt");
  REQUIRE(text);
  CHECK_EQ(*text, "p: 8");
}

TEST_CASE("text without placeholders passes through unchanged") {
  auto text = substitute_placeholders("a $ {b} $x }", {}, "job.pbtxt");
  REQUIRE(text);
  CHECK_EQ(*text, "a $ {b} $x }");
}

TEST_CASE("an unfilled placeholder is named with its line") {
  auto text = substitute_placeholders(job_text, {}, "job.pbtxt");
  CHECK_EQ(error_of(text), "job.pbtxt:5: placeholder ${input} has no value; "
                           "pass --param input=...");
  CHECK_EQ(text.error().code(),
           static_cast<uint8_t>(scheduler_errc::unfilled_placeholder));
}

TEST_CASE("a param the text never uses is reported as a likely typo") {
  auto text = substitute_placeholders(
    job_text, {{"input", "a.txt"}, {"ouput", "b"}}, "job.pbtxt");
  CHECK_EQ(error_of(text),
           "--param 'ouput' is not used by job.pbtxt (its placeholders: "
           "input, job, parallelism)");
  CHECK_EQ(text.error().code(),
           static_cast<uint8_t>(scheduler_errc::unused_param));
}

TEST_CASE("a param counts as used by a placeholder with a fallback") {
  auto text = substitute_placeholders("${a:-1}", {{"a", "2"}}, "job.pbtxt");
  REQUIRE(text);
  CHECK_EQ(*text, "2");
}

TEST_CASE("params given to a text without placeholders are all reported") {
  auto text = substitute_placeholders("x", {{"a", "1"}, {"b", "2"}}, "j");
  CHECK_EQ(error_of(text),
           "--params 'a', 'b' are not used by j (it has no placeholders)");
}

TEST_CASE("an unterminated placeholder is an error naming its line") {
  CHECK_EQ(error_of(substitute_placeholders("a\nb ${x", {}, "job.pbtxt")),
           "job.pbtxt:2: unterminated placeholder '${' (missing '}')");
  // A `}` on a later line does not close it.
  CHECK_EQ(error_of(substitute_placeholders("${x\n}", {}, "job.pbtxt")),
           "job.pbtxt:1: unterminated placeholder '${' (missing '}')");
}

TEST_CASE("a placeholder without a valid name is an error") {
  CHECK_EQ(error_of(substitute_placeholders("${}", {}, "job.pbtxt")),
           "job.pbtxt:1: placeholder ${} has no name");
  CHECK_EQ(error_of(substitute_placeholders("${:-x}", {}, "job.pbtxt")),
           "job.pbtxt:1: placeholder ${:-x} has no name");
  CHECK_EQ(error_of(substitute_placeholders("${a b}", {}, "job.pbtxt")),
           "job.pbtxt:1: placeholder ${a b} has a bad name 'a b' (use "
           "letters, digits, '_', '-' and '.')");
}

TEST_CASE("job text parses into a JobSpec after substitution") {
  auto spec = parse_job_text(job_text, {{"input", "in.txt"}}, "job.pbtxt");
  REQUIRE(spec);
  CHECK_EQ(spec->name(), "wordcount");
  REQUIRE_EQ(spec->vertices_size(), 1);
  CHECK_EQ(spec->vertices(0).params().at("path"), "in.txt");
  CHECK_EQ(spec->vertices(0).parallelism(), 2);
}

TEST_CASE("a parse error names the origin, line and column") {
  auto spec = parse_job_text("name: \"x\"\nvertices {\n  idd: \"a\"\n}\n", {},
                             "job.pbtxt");
  auto text = error_of(spec);
  CHECK_MESSAGE(text.rfind("job.pbtxt:3:", 0) == 0, text);
  CHECK_MESSAGE(text.find("idd") != std::string::npos, text);
  CHECK_EQ(spec.error().code(),
           static_cast<uint8_t>(scheduler_errc::parse_error));
}

TEST_CASE("a parse error points at the exact column") {
  auto text = error_of(
    parse_job_text("name: \"x\"\nparallelism: two\n", {}, "job.pbtxt"));
  CHECK_MESSAGE(text.rfind("job.pbtxt:2:14: ", 0) == 0, text);
}

TEST_CASE("placeholder errors come before parse errors") {
  auto spec = parse_job_text("name: ${n\n", {}, "job.pbtxt");
  CHECK_EQ(error_of(spec),
           "job.pbtxt:1: unterminated placeholder '${' (missing '}')");
}

TEST_CASE("a job file is read, substituted and parsed") {
  temp_file file{job_text};
  auto spec = load_job_file(file.path(), {{"input", "x.txt"}, {"job", "mine"}});
  REQUIRE_MESSAGE(spec, error_of(spec));
  CHECK_EQ(spec->name(), "mine");
}

TEST_CASE("errors in a job file are prefixed with its path") {
  temp_file file{"name: \"x\"\nbogus: 1\n"};
  CHECK_EQ(error_of(load_job_file(file.path(), {})),
           file.path()
             + ":2:6: Message type \"weir.proto.JobSpec\" has no "
               "field named \"bogus\".");
}

TEST_CASE("a missing job file is an error naming its path") {
  auto spec = load_job_file("/nonexistent/job.pbtxt", {});
  CHECK_EQ(error_of(spec), "cannot read job file '/nonexistent/job.pbtxt': "
                           "No such file or directory");
}

TEST_CASE("a directory given as job file is an error naming it") {
  CHECK_EQ(error_of(load_job_file("/tmp", {})),
           "cannot read job file '/tmp': it is a directory");
}

TEST_CASE("a relative library path is resolved against the job file's "
          "directory") {
  temp_file relative{"name: \"x\"\nlibrary: \"libs/libops.so\"\n"};
  auto spec = load_job_file(relative.path(), {});
  REQUIRE_MESSAGE(spec, error_of(spec));
  auto dir = std::filesystem::path{relative.path()}.parent_path();
  CHECK_EQ(spec->library(), (dir / "libs/libops.so").string());
  temp_file absolute{"name: \"x\"\nlibrary: \"/opt/libops.so\"\n"};
  auto abs = load_job_file(absolute.path(), {});
  REQUIRE_MESSAGE(abs, error_of(abs));
  CHECK_EQ(abs->library(), "/opt/libops.so");
}
