//! `tessera`: a multi-tenant OAuth 2.0 / OpenID Connect authorization server.

fn main() -> std::process::ExitCode {
    tessera::cli::run()
}
