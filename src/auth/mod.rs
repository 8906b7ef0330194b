//! Who the caller is and what they may do: identities from bearer tokens, signing in with the city's
//! OpenID Connect provider (`oidc`), and the one policy module that decides every read and write. The
//! small-cell suppression that restricted data goes through is `service::disclosure` (the pure algorithm
//! beside the releases it computes).

pub mod authenticate;
pub mod identity;
pub mod oidc;
pub mod policy;
pub mod token;

pub use identity::{Identity, Member, Role};
