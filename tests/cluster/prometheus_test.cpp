#include "cluster/prometheus.hpp"

#include <cmath>
#include <limits>

#include <doctest/doctest.h>

using namespace weir;

TEST_CASE("a Prometheus page groups each family's samples under its HELP "
          "and TYPE") {
  prometheus_text page;
  page.family("weir_a_total", "counter", "Things counted.");
  page.family("weir_b", "gauge", "A level.");
  page.family("weir_unused", "gauge", "Never sampled.");
  page.family("weir_a_total", "gauge", "Declared again: ignored.");
  page.sample("weir_b", {{"job", "x"}}, 0.25);
  page.sample("weir_a_total", {{"job", "x"}, {"subtask", "0"}}, 12);
  page.sample("weir_a_total", {{"job", "x"}, {"subtask", "1"}}, 3);
  page.sample("weir_undeclared", {}, 1);
  CHECK_EQ(page.str(), "# HELP weir_a_total Things counted.\n"
                       "# TYPE weir_a_total counter\n"
                       "weir_a_total{job=\"x\",subtask=\"0\"} 12\n"
                       "weir_a_total{job=\"x\",subtask=\"1\"} 3\n"
                       "# HELP weir_b A level.\n"
                       "# TYPE weir_b gauge\n"
                       "weir_b{job=\"x\"} 0.25\n");
}

TEST_CASE("label values and help texts are escaped, special values spelled "
          "as Prometheus reads them") {
  CHECK_EQ(prometheus_text::escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  prometheus_text page;
  page.family("weir_x", "gauge", "Back\\slash and\nnewline.");
  page.sample("weir_x", {{"name", "say \"hi\""}}, 1);
  page.sample("weir_x", {{"name", "inf"}},
              std::numeric_limits<double>::infinity());
  page.sample("weir_x", {{"name", "-inf"}},
              -std::numeric_limits<double>::infinity());
  page.sample("weir_x", {{"name", "nan"}}, std::nan(""));
  page.sample("weir_x", {{"name", "big"}}, 18446744073709551615.0);
  page.sample("weir_x", {{"name", "exact"}}, 9007199254740993.0);
  page.sample("weir_x", {}, 123456789012.0);
  page.sample("weir_x", {{"name", "watermark"}}, 1796692351.12);
  auto text = page.str();
  CHECK(text.find("# HELP weir_x Back\\\\slash and\\nnewline.\n")
        != std::string::npos);
  CHECK(text.find("weir_x{name=\"say \\\"hi\\\"\"} 1\n") != std::string::npos);
  CHECK(text.find("weir_x{name=\"inf\"} +Inf\n") != std::string::npos);
  CHECK(text.find("weir_x{name=\"-inf\"} -Inf\n") != std::string::npos);
  CHECK(text.find("weir_x{name=\"nan\"} NaN\n") != std::string::npos);
  CHECK(text.find("weir_x{name=\"big\"} 18446744073709551616\n")
        != std::string::npos);
  // Epoch seconds keep their milliseconds.
  CHECK(text.find("weir_x{name=\"watermark\"} 1796692351.12\n")
        != std::string::npos);
  CHECK(text.find("weir_x{name=\"exact\"} 9007199254740992\n")
        != std::string::npos);
  CHECK(text.find("weir_x 123456789012\n") != std::string::npos);
}
