//! The `mock-idp` command: `serve`, `check`, `profiles` and `keys generate` ([`mock_idp::cli`]).

fn main() -> std::process::ExitCode {
    mock_idp::cli::main()
}
