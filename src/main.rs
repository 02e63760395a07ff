//! The `selfheal` binary: a thin adapter over [`selfheal::cli::main`].

fn main() {
    std::process::exit(selfheal::cli::main());
}
