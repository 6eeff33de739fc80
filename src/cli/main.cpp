// helix: the command-line front end. Parses, calls the library, prints. Errors become one line and exit 1.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Helix: an LLM inference server with a PagedAttention KV cache", "helix"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("helix ") + HELIX_VERSION);

  helix::cli::add_compare_memory_command(app);
  helix::cli::add_generate_command(app);
  helix::cli::add_bench_command(app);
  helix::cli::add_bench_serve_command(app);
  helix::cli::add_gen_model_command(app);
  helix::cli::add_inspect_command(app);
  helix::cli::add_serve_command(app);
  helix::cli::add_bench_spec_command(app);
  helix::cli::add_quantize_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
