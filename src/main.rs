//! The `seqsim` command; all the work is in the library's [`cli`] module.

use std::process::ExitCode;

fn main() -> ExitCode {
    seqsim::cli::main()
}
