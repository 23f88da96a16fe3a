//! `tessera`: a multi-tenant OAuth 2.0 / OpenID Connect authorization server.

/// mimalloc keeps the memory of many small, short-lived allocations made on many threads
/// (requests on tokio's workers, rows on the database connections' threads) from piling up
/// as glibc's per-thread arenas let it; see `bench/RESULTS.md`.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tessera::cli::run()
}
