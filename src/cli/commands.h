// Each `helix` subcommand registers itself on the CLI11 app; main.cpp lists them in one place.
#pragma once

#include <CLI/CLI.hpp>

namespace helix::cli {

void add_compare_memory_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_bench_serve_command(CLI::App& app);
void add_gen_model_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_bench_spec_command(CLI::App& app);
void add_quantize_command(CLI::App& app);

}  // namespace helix::cli
