#include "common/cpu_times.h"

#include <charconv>
#include <fstream>
#include <string>

namespace helix {

std::optional<CpuTimes> parse_proc_stat(std::string_view text) {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice": the first line, summed over CPUs.
  // guest time is already counted in user, so it is left out of the total.
  constexpr std::string_view kPrefix = "cpu ";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = text.substr(kPrefix.size());
  rest = rest.substr(0, rest.find('\n'));
  CpuTimes times;
  for (int column = 0; column < 8; ++column) {
    const size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(start);
    int64_t value = 0;
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (error != std::errc() || value < 0) return std::nullopt;
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    times.total_ticks += value;
    if (column == 7) times.steal_ticks = value;
  }
  return times;
}

std::optional<CpuTimes> read_cpu_times() {
  std::ifstream file("/proc/stat");
  if (!file) return std::nullopt;
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  return parse_proc_stat(line);
}

double steal_fraction(const CpuTimes& before, const CpuTimes& after) {
  const int64_t total = after.total_ticks - before.total_ticks;
  if (total <= 0) return 0;
  return static_cast<double>(after.steal_ticks - before.steal_ticks) / static_cast<double>(total);
}

}  // namespace helix
