//! The `cigo` binary: see `cigo --help` and the README.

fn main() -> std::process::ExitCode {
    cigo::cli::main()
}
