# Shared by the bench scripts (sourced, not run).

# oha, the load generator (installed with cargo when missing), and a release build.
ensure_oha_and_build() {
  if ! command -v oha >/dev/null 2>&1; then
    export PATH="$HOME/.cargo/bin:$PATH"
    command -v oha >/dev/null 2>&1 || cargo install oha --locked
  fi
  cargo build --release -q
}
