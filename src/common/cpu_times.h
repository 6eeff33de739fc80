// CPU time of the whole machine as the kernel counts it (/proc/stat), to tell how much of it a hypervisor
// gave to other guests ("steal"). On a shared virtual machine, a step that two threads run in lock step waits
// whenever either virtual CPU is descheduled, so steal time shows up in measured speeds: helix bench reports it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace helix {

struct CpuTimes {
  int64_t total_ticks = 0;  // user + nice + system + idle + iowait + irq + softirq + steal, all CPUs
  int64_t steal_ticks = 0;  // time a virtual CPU wanted to run while the hypervisor ran something else
};

// The aggregate "cpu" line of /proc/stat's text; nullopt if the text has none with at least the 8 columns up to
// steal.
std::optional<CpuTimes> parse_proc_stat(std::string_view text);

// The machine's counters now; nullopt where /proc/stat cannot be read or parsed (not Linux).
std::optional<CpuTimes> read_cpu_times();

// The share of CPU time stolen between two readings (0 when no tick passed).
double steal_fraction(const CpuTimes& before, const CpuTimes& after);

}  // namespace helix
