//! `mock-idp`, shipped beside `conformance` in the Python wheel (feature `wheel`: the
//! wheel is built from this crate, and a wheel's binaries come from one crate). The same
//! command as the `mock-idp` crate's binary.

fn main() -> std::process::ExitCode {
    mock_idp::cli::main()
}
