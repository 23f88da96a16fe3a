//! End-to-end tests: one test binary. Servers run on 127.0.0.1:0 with fresh databases; the
//! backend is SQLite unless `TESSERA_TEST_BACKEND=postgres` (the test command runs the whole
//! suite once per backend).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod admin_api;
mod api_resources;
mod automation;
mod cli;
mod client_assertions;
mod clients;
mod cluster;
mod conformance;
mod connections;
mod console;
mod explorer;
mod fapi2_security_profile;
mod flows;
mod grants;
mod graphql;
mod interop;
mod interop_fapi;
mod mcp;
mod openid_conformance_suite;
mod registration;
mod security;
mod sender_constraints;
mod support;
mod tokens;
mod webhooks;
