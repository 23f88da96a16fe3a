//! The repositories, one trait per aggregate, each with the records it stores. A backend's
//! transaction implements all of them ([`crate::Tx`] is their sum); their SQL lives in the
//! file of the same name under `sql/`.

pub mod api_keys;
pub mod api_resources;
pub mod audit;
pub mod changes;
pub mod clients;
pub mod codes;
pub mod connections;
pub mod console;
pub mod keys;
pub mod limits;
pub mod orgs;
pub mod registration;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use api_keys::*;
pub use api_resources::*;
pub use audit::*;
pub use changes::*;
pub use clients::*;
pub use codes::*;
pub use connections::*;
pub use console::*;
pub use keys::*;
pub use limits::*;
pub use orgs::*;
pub use registration::*;
pub use sessions::*;
pub use tokens::*;
pub use users::*;
pub use webhooks::*;
