//! Who the caller is and what they may do: identities from bearer tokens, signing in with the city's
//! OpenID Connect provider (`oidc`), the one policy module that decides every read and write, and the
//! small-cell suppression that restricted data goes through.

pub mod authenticate;
pub mod identity;
pub mod oidc;
pub mod policy;
pub mod suppression;
pub mod token;

pub use identity::{Identity, Member, Role};
