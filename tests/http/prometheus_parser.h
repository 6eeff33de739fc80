// A checker for Prometheus' text exposition format, written from the format's description (not from the
// writer): every line is a HELP, a TYPE or a sample with valid names, label syntax and value; each family has
// HELP and TYPE once, before its samples; counters end in _total; histogram series belong to their family.
#pragma once

#include <cmath>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace helix::test {

struct Family {
  std::string type;
  bool has_help = false;
};

// Samples keyed by name + label text ("helix_requests_total{outcome=\"finished\"}").
struct Exposition {
  std::map<std::string, Family> families;
  std::map<std::string, double> samples;
  double at(const std::string& key) const {
    auto it = samples.find(key);
    if (it == samples.end()) {
      ADD_FAILURE() << "no sample " << key;
      return NAN;
    }
    return it->second;
  }
};

inline bool parse_value(const std::string& text, double& out) {
  if (text == "+Inf" || text == "Inf") return out = INFINITY, true;
  if (text == "-Inf") return out = -INFINITY, true;
  if (text == "NaN") return out = NAN, true;
  static const std::regex number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  if (!std::regex_match(text, number)) return false;
  out = std::stod(text);
  return true;
}

// The family a sample belongs to: histograms add _bucket, _sum and _count to the family name.
inline std::string family_of(const std::string& name, const std::map<std::string, Family>& families) {
  if (families.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() && it->second.type == "histogram") return base;
    }
  }
  return {};
}

inline Exposition parse_prometheus(const std::string& text) {
  Exposition e;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the page must end with a newline";
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*)?\})? (\S+))");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      Family& f = e.families[m[1]];
      EXPECT_FALSE(f.has_help) << "line " << n << ": second HELP for " << m[1];
      EXPECT_TRUE(f.type.empty()) << "line " << n << ": HELP after TYPE for " << m[1];
      f.has_help = true;
    } else if (std::regex_match(line, m, type)) {
      Family& f = e.families[m[1]];
      EXPECT_TRUE(f.type.empty()) << "line " << n << ": second TYPE for " << m[1];
      f.type = m[2];
      if (f.type == "counter") {
        EXPECT_TRUE(std::string(m[1]).ends_with("_total")) << m[1];
      }
    } else if (std::regex_match(line, m, sample)) {
      const std::string name = m[1];
      const std::string fam = family_of(name, e.families);
      EXPECT_FALSE(fam.empty()) << "line " << n << ": sample before its TYPE: " << line;
      double value = 0;
      EXPECT_TRUE(parse_value(m[7], value)) << "line " << n << ": bad value: " << line;
      const std::string key = name + std::string(m[2]);
      EXPECT_EQ(e.samples.count(key), 0u) << "line " << n << ": duplicate series " << key;
      e.samples[key] = value;
    } else {
      ADD_FAILURE() << "line " << n << " is not Prometheus text format: '" << line << "'";
    }
  }
  for (const auto& [name, f] : e.families) {
    EXPECT_TRUE(f.has_help) << name << " has no HELP";
    EXPECT_FALSE(f.type.empty()) << name << " has no TYPE";
    EXPECT_EQ(name.rfind("helix_", 0), 0u) << name;
  }
  return e;
}

// A histogram's buckets are cumulative and end with le="+Inf" equal to _count.
inline void check_histogram(const Exposition& e, const std::string& name, const std::vector<std::string>& bounds) {
  double prev = 0;
  for (const std::string& le : bounds) {
    const double v = e.at(name + "_bucket{le=\"" + le + "\"}");
    EXPECT_GE(v, prev) << name << " le=" << le;
    prev = v;
  }
  const double inf = e.at(name + "_bucket{le=\"+Inf\"}");
  EXPECT_GE(inf, prev);
  EXPECT_EQ(inf, e.at(name + "_count"));
  EXPECT_GE(e.at(name + "_sum"), 0);
}

}  // namespace helix::test
